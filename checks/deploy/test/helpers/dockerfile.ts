/** A small Dockerfile parser: instructions (continuations joined, comments dropped) by stage. */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  readonly args: string;
  /** The stage it belongs to (its `AS` name, or its index), null before the first FROM. */
  readonly stage: string | null;
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage: string | null = null;
  let stages = 0;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    // Comments (and parser directives) only at the start of a line; blank lines inside a
    // continued instruction are skipped, as BuildKit does.
    if (line.startsWith('#') || line === '') continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = `${pending}${line}`;
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!;
    if (keyword === 'FROM') {
      const as = /\s+AS\s+(\S+)\s*$/i.exec(args);
      stage = as ? as[1]! : String(stages);
      stages++;
    }
    out.push({ keyword, args, stage });
  }
  if (pending) throw new Error('the Dockerfile ends inside a continued line');
  return out;
}

/** The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD/VOLUME, or null for the shell form. */
export function execForm(args: string): string[] | null {
  const t = args.trim();
  if (!t.startsWith('[')) return null;
  const parsed: unknown = JSON.parse(t);
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`) as a map; values may be double-quoted. */
export function envOf(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]*)$/.exec(args);
  if (legacy) return { [legacy[1]!]: legacy[2]!.trim() };
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) out[m[1]!] = m[2]!.startsWith('"') ? JSON.parse(m[2]!) : m[2]!;
  return out;
}
