/** Stable error codes of @raftkit/kv. Match on `err.code`, never on the message. */
export const KvErrorCode = {
  /** Bad input (key, value, option, consistency level); rejected before reaching the log. */
  InvalidArgument: 'KV_INVALID_ARGUMENT',
  /**
   * The write's session is not (or no longer) in the session table: it expired by log time,
   * was closed, or never existed. Open a new session; the write did not run under this one.
   */
  SessionExpired: 'KV_SESSION_EXPIRED',
  /** The session id cannot name a session (0, or not below the command's own index). */
  SessionUnknown: 'KV_SESSION_UNKNOWN',
  /**
   * The client already acknowledged this sequence number (a later command said so), so its
   * result was discarded; the command was not run again (thesis §6.3).
   */
  StaleSequence: 'KV_STALE_SEQUENCE',
  /** The session holds too many unacknowledged results; acknowledge some first. */
  TooManyPending: 'KV_TOO_MANY_PENDING',
  /** A log entry did not decode as a kv command; it applied as a no-op. */
  BadCommand: 'KV_BAD_COMMAND',
  /** A lease read was asked of a node not known to run with check-quorum. */
  LeaseUnavailable: 'KV_LEASE_UNAVAILABLE',
  /** A snapshot failed its checksum or could not be decoded; fatal to `restore`. */
  SnapshotCorrupt: 'KV_SNAPSHOT_CORRUPT',
  /** The node answered with something that is not a kv result (misconfigured state machine). */
  UnexpectedResult: 'KV_UNEXPECTED_RESULT',
  /** A watch starts before the history still held; `oldestRevision` is the first accepted fromRevision. */
  Compacted: 'KV_COMPACTED',
  /** A watch's consumer fell more than maxQueued events behind; resume with fromRevision = lastRevision + 1. */
  WatchOverflow: 'KV_WATCH_OVERFLOW',
  /** No lease has that id: never granted, revoked, or expired (the leader revoked it). */
  LeaseNotFound: 'KV_LEASE_NOT_FOUND',
  /** A grant named an id that a live lease already has; nothing changed. */
  LeaseExists: 'KV_LEASE_EXISTS',
  /**
   * A value store (FileValueStore) cannot be opened, or a value held on disk cannot be read
   * back (an I/O error, a damaged file, a closed store). Names the file and position.
   */
  ValueStore: 'KV_VALUE_STORE',
} as const;
export type KvErrorCode = (typeof KvErrorCode)[keyof typeof KvErrorCode];

/**
 * The error @raftkit/kv throws or rejects with. Errors of the consensus layer (NotLeaderError,
 * RAFT_TIMEOUT, RAFT_STOPPED, ...) are passed through unchanged, so callers can redirect.
 */
/** Marks a KvError, so that one from another copy of @raftkit/kv (ESM and CJS, two versions) is still recognised. */
export const KV_ERROR_BRAND: unique symbol = Symbol.for('raftkit.kv.error') as never;

export class KvError extends Error {
  readonly code: KvErrorCode;
  declare readonly [KV_ERROR_BRAND]: true;
  constructor(code: KvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'KvError';
    Object.defineProperty(this, KV_ERROR_BRAND, { value: true });
  }
}

/** Recognises a KvError by its brand and code, not by `instanceof`. */
export function isKvError(err: unknown, code?: KvErrorCode): err is KvError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { [KV_ERROR_BRAND]?: unknown; code?: unknown };
  return e[KV_ERROR_BRAND] === true && typeof e.code === 'string' && (code === undefined || e.code === code);
}

export const invalidArgument = (message: string): KvError => new KvError(KvErrorCode.InvalidArgument, message);
