import { ConfigError, NODE_ID } from './config.js';

/**
 * The flags of an offline subcommand (`recover`, `restore`): `--name value` or `--name=value`
 * for `names`, and `--flag` alone for `booleans` (recorded as 'true'). Anything else is a
 * ConfigError naming it, followed by `usage`.
 */
export function parseOfflineFlags(command: string, argv: readonly string[], names: readonly string[], booleans: readonly string[], usage: string): Record<string, string> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!a.startsWith('--') || (!names.includes(name) && !booleans.includes(name))) throw new ConfigError(`${command}: unexpected argument "${a}"\n${usage}`);
    const value = eq > 0 ? a.slice(eq + 1) : booleans.includes(name) ? 'true' : argv[++i];
    if (value === undefined) throw new ConfigError(`${command}: --${name} needs a value`);
    raw[name] = value;
  }
  return raw;
}

/** The `--id` an offline subcommand needs, checked as the server checks its own. */
export function requireNodeId(command: string, raw: Record<string, string>): string {
  const id = raw['id'];
  if (!id || !NODE_ID.test(id)) throw new ConfigError(`${command}: --id is required: 1-64 letters, digits, . _ - (got "${id ?? ''}")`);
  return id;
}
