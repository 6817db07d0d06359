import type { ParseArgsConfig } from 'node:util';
import type { RaftkitClient } from '../client.js';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What a command sees: its parsed flags and arguments, the client, and where to write. */
export interface CommandContext {
  readonly args: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly json: boolean;
  /** The command's deadline (--timeout). */
  readonly timeoutMs: number;
  readonly client: () => RaftkitClient;
  readonly io: CliIo;
  /** Aborted on SIGINT/SIGTERM (or by the test driving the CLI). */
  readonly signal: AbortSignal;
}

export interface CliIo {
  stdout(text: string | Uint8Array): void;
  stderr(text: string): void;
  /** The whole of standard input. */
  readStdin(): Promise<Uint8Array>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  /** The words that name it: ['put'], ['lease', 'grant']. */
  readonly path: readonly string[];
  /** `raftkit <path> <args>` as shown in the help. */
  readonly usage: string;
  readonly summary: string;
  readonly options?: OptionsConfig;
  /** Positional arguments: [min, max]. */
  readonly arity: readonly [number, number];
  /** Resolves with the exit code (0 when nothing is returned). */
  run(ctx: CommandContext): Promise<number | void>;
}

/** A bad command line: exit 2, nothing sent. */
export class UsageError extends Error {}

export function intArg(raw: string | undefined, what: string, min = 1): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${what} must be an integer >= ${min}, got ${JSON.stringify(raw ?? '')}`);
  return n;
}

/** A duration: `500ms`, `10s`, `2m`, or a plain number of seconds (as etcdctl's TTLs). */
export function durationMs(raw: string | undefined, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw ?? '');
  if (!m) throw new UsageError(`${what} must be a duration like 10s, 500ms or 2m, got ${JSON.stringify(raw ?? '')}`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (!Number.isSafeInteger(Math.round(ms)) || ms < 1) throw new UsageError(`${what} is out of range: ${raw}`);
  return Math.round(ms);
}
