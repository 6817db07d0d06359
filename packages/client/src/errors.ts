/**
 * Errors of the raftkit client. Every failure is a `RaftkitClientError` with a stable `code`:
 * the server's own code (`KV_NOT_FOUND`, `RAFT_NOT_LEADER`, ...) when a server refused the
 * request, or one of `ClientErrorCode` when the client gave up without such an answer.
 */

/** Codes the client itself gives. */
export const ClientErrorCode = {
  /** No endpoint answered (connection refused, DNS, TLS, reset) before the deadline. */
  Unavailable: 'CLIENT_UNAVAILABLE',
  /** The call's deadline (`timeoutMs`) passed. */
  Timeout: 'CLIENT_TIMEOUT',
  /** The caller's `signal` aborted the call. */
  Aborted: 'CLIENT_ABORTED',
  /** A bad argument, found before anything was sent. */
  InvalidArgument: 'CLIENT_INVALID_ARGUMENT',
  /** A server answered with something the client cannot read (not the raftkit API?). */
  BadResponse: 'CLIENT_BAD_RESPONSE',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export interface RaftkitClientErrorOptions {
  /** HTTP status of the refusal; 0 when no server answered. */
  readonly status?: number;
  /** The endpoint (base URL) that answered, or was being tried last. */
  readonly endpoint?: string | null;
  /** A write that may or may not have applied (its outcome is unknown). */
  readonly outcomeUnknown?: boolean;
  /** The rest of the server's error body (`leader`, `revision`, `oldestRevision`...). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

const BRAND = Symbol.for('raftkit.clientError');

export class RaftkitClientError extends Error {
  readonly code: string;
  readonly status: number;
  readonly endpoint: string | null;
  /**
   * True when a write may have applied although no success was seen: it timed out, its
   * connection dropped, or the server said so (504 ...OUTCOME_UNKNOWN, RAFT_TIMEOUT) and the
   * client could not settle it with a tagged retry before its deadline.
   */
  readonly outcomeUnknown: boolean;
  readonly details: Readonly<Record<string, unknown>>;
  declare readonly [BRAND]: true;

  constructor(code: string, message: string, options: RaftkitClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RaftkitClientError';
    this.code = code;
    this.status = options.status ?? 0;
    this.endpoint = options.endpoint ?? null;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
    this.details = options.details ?? {};
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** Whether `err` is a RaftkitClientError (with `code`, if given); works across copies of this package. */
export function isRaftkitClientError(err: unknown, code?: string): err is RaftkitClientError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true && (code === undefined || (err as RaftkitClientError).code === code);
}

/**
 * What a refusal means for a request, from the server README's error table:
 * - `retry`: nothing was applied; the same request may succeed later or elsewhere;
 * - `unknown`: a write may have applied; only a request that is safe to repeat (a session-tagged
 *   write, an idempotent membership change, any read) is sent again;
 * - `fix`: it will never succeed as it is.
 */
export type Disposition = 'retry' | 'unknown' | 'fix';

const retryCodes = new Set([
  'SERVER_REQUEST_TIMEOUT',
  'RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS',
  'KV_TOO_MANY_PENDING',
  'SERVER_FORWARD_FAILED',
  'SERVER_OVERLOADED',
  'RAFT_NOT_LEADER',
  'SERVER_FORWARD_LOOP',
  'SERVER_SHUTTING_DOWN',
  'RAFT_TRANSFER_IN_PROGRESS',
  'RAFT_PROPOSAL_DROPPED',
]);
const unknownCodes = new Set(['SERVER_INTERNAL', 'RAFT_STOPPED', 'RAFT_OUTCOME_UNKNOWN', 'RAFT_TIMEOUT', 'SERVER_OUTCOME_UNKNOWN']);

/** Codes after which the next attempt goes to another endpoint rather than the same one. */
export const moveOnCodes: ReadonlySet<string> = new Set(['RAFT_NOT_LEADER', 'SERVER_FORWARD_FAILED', 'SERVER_SHUTTING_DOWN', 'SERVER_FORWARD_LOOP', 'RAFT_STOPPED', 'SERVER_OVERLOADED', 'SERVER_NODE_STOPPED']);

export function dispositionOf(code: string, status: number): Disposition {
  if (retryCodes.has(code)) return 'retry';
  if (unknownCodes.has(code)) return 'unknown';
  // An unlisted 5xx (a proxy's 502/503 page, a fatal storage code) may have done anything.
  if (status >= 500) return 'unknown';
  return 'fix';
}
