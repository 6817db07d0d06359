import { isRaftkitClientError, dispositionOf } from '../errors.js';
import type { KvValue } from '../values.js';
import { toBase64 } from '../values.js';
import type { CliIo } from './command.js';
import { UsageError } from './command.js';

/** Exit codes (README "Exit codes"). */
export const Exit = { Ok: 0, Refused: 1, Usage: 2, Unavailable: 3, OutcomeUnknown: 4, Interrupted: 130 } as const;

/** A value for a terminal: strings as they are, bytes raw, other JSON as JSON text. */
export function valueText(v: KvValue): string | Uint8Array {
  if (v instanceof Uint8Array) return v;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A value inside --json output: bytes as { base64 }. */
export function jsonSafe(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? { base64: toBase64(v) } : v)));
}

export function printJson(io: CliIo, x: unknown): void {
  io.stdout(`${JSON.stringify(jsonSafe(x))}\n`);
}

/** A plain text table: columns padded to their widest cell. */
export function printTable(io: CliIo, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.stdout(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

/** The exit code of a failure, and the line `Error: CODE: message` on stderr. */
export function reportError(io: CliIo, err: unknown, interrupted: boolean): number {
  if (err instanceof UsageError) {
    io.stderr(`Error: CLIENT_USAGE: ${err.message} (see raftkit --help)\n`);
    return Exit.Usage;
  }
  if (!isRaftkitClientError(err)) {
    const code = (err as { code?: unknown })?.code;
    io.stderr(`Error: ${typeof code === 'string' ? code : 'CLIENT_ERROR'}: ${(err as Error)?.message ?? String(err)}\n`);
    return Exit.Refused;
  }
  io.stderr(`Error: ${err.code}: ${err.message}${err.outcomeUnknown ? ' (the write may or may not have applied)' : ''}\n`);
  if (err.outcomeUnknown) return Exit.OutcomeUnknown;
  if (err.code === 'CLIENT_ABORTED' && interrupted) return Exit.Interrupted;
  if (err.code === 'CLIENT_UNAVAILABLE' || err.code === 'CLIENT_TIMEOUT') return Exit.Unavailable;
  // A refusal the client retried until its deadline (no leader, overloaded...): unavailable.
  if (err.status > 0 && dispositionOf(err.code, err.status) === 'retry') return Exit.Unavailable;
  return Exit.Refused;
}
