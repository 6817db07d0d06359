export async function chaos(_flags: Map<string, string | true>): Promise<number> {
  process.stderr.write('chaos: not available yet\n');
  return 2;
}
