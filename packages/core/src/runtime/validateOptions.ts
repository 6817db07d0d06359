import { ErrorCode, RaftError } from '../errors.js';
import type { RaftNodeOptions } from './options.js';

const storageMethods = ['state', 'entries', 'term', 'save', 'installSnapshot', 'createSnapshot', 'openSnapshot', 'compact', 'close'] as const;
const transportMethods = ['start', 'send', 'close'] as const;
const stateMachineMethods = ['apply', 'snapshot', 'restore'] as const;
const positiveOptions = ['tickMs', 'requestTimeoutMs', 'snapshotEvery', 'maxLearnerLag', 'membershipTimeoutMs'] as const;

function fail(message: string): never {
  throw new RaftError(ErrorCode.InvalidConfig, `invalid RaftNode options: ${message}`);
}

/** The names of `methods` that `value` lacks (all of them if it is not an object). */
function missing(value: unknown, methods: readonly string[]): string[] {
  if (typeof value !== 'object' || value === null) return [...methods];
  return methods.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function');
}

function requireMethods(name: string, what: string, value: unknown, methods: readonly string[]): void {
  if (value === undefined || value === null) fail(`${name} is missing (${what})`);
  const lacks = missing(value, methods);
  if (lacks.length > 0) fail(`${name} is not ${what}: it has no ${lacks.join(', ')} method${lacks.length > 1 ? 's' : ''}`);
}

/**
 * Checks the wiring of a RaftNode before anything is read (RAFT_INVALID_CONFIG, naming the
 * problem): a forgotten state machine or a transport of another node would otherwise fail
 * late and silently. The consensus options are checked by `resolveConfig`.
 */
export function validateNodeOptions(opts: RaftNodeOptions<unknown>): void {
  if (typeof opts !== 'object' || opts === null) fail('options must be an object');
  requireMethods('storage', 'a LogStorage (e.g. MemoryLogStorage from @raftkit/log-memory)', opts.storage, storageMethods);
  requireMethods('transport', 'a Transport (e.g. HttpTransport from @raftkit/transport-http)', opts.transport, transportMethods);
  if (opts.transport.id !== opts.id) {
    fail(`transport.id (${String(opts.transport.id)}) must equal id (${String(opts.id)}): the transport belongs to another node`);
  }
  requireMethods('stateMachine', 'a StateMachine with apply, snapshot and restore', opts.stateMachine, stateMachineMethods);
  for (const name of positiveOptions) {
    const v = opts[name];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) fail(`${name} must be a positive integer, got ${String(v)}`);
  }
  const c = opts.commitCoalesceMs;
  if (c !== undefined && (!Number.isSafeInteger(c) || c < 0)) fail(`commitCoalesceMs must be a non-negative integer (0: never hold), got ${String(c)}`);
}
