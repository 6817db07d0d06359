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
} as const;
export type KvErrorCode = (typeof KvErrorCode)[keyof typeof KvErrorCode];

/**
 * The error @raftkit/kv throws or rejects with. Errors of the consensus layer (NotLeaderError,
 * RAFT_TIMEOUT, RAFT_STOPPED, ...) are passed through unchanged, so callers can redirect.
 */
export class KvError extends Error {
  readonly code: KvErrorCode;
  constructor(code: KvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'KvError';
  }
}

export function isKvError(err: unknown, code?: KvErrorCode): err is KvError {
  return err instanceof KvError && (code === undefined || err.code === code);
}

export const invalidArgument = (message: string): KvError => new KvError(KvErrorCode.InvalidArgument, message);
