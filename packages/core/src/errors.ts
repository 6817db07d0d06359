import type { NodeId } from './consensus/types.js';

/** Stable error codes. Match on `err.code`, never on the message. */
export const ErrorCode = {
  /** Recoverable: this node is not the leader; `leaderHint` says who might be. */
  NotLeader: 'RAFT_NOT_LEADER',
  /** Recoverable: the proposal did not apply: another leader's entry took its index. */
  ProposalDropped: 'RAFT_PROPOSAL_DROPPED',
  /**
   * Recoverable: the proposal may or may not have applied (a snapshot replaced the log at its
   * index before this node applied it). Retry only where a retry is deduplicated (a session).
   */
  OutcomeUnknown: 'RAFT_OUTCOME_UNKNOWN',
  /** Recoverable: the operation did not finish within its deadline; it may still apply. */
  Timeout: 'RAFT_TIMEOUT',
  /** Recoverable: the node is stopped or stopping. */
  Stopped: 'RAFT_STOPPED',
  /**
   * Recoverable: a membership change is already under way (not yet committed, or the cluster
   * is in a joint configuration), or this leader has not yet committed an entry of its own
   * term. Nothing was changed; retry once the earlier change is done.
   */
  MembershipChangeInProgress: 'RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS',
  /** Recoverable: a learner (or new node) lags too far behind to become a voter; retry once it caught up. */
  LearnerBehind: 'RAFT_LEARNER_BEHIND',
  /**
   * Recoverable: the leader is handing leadership over and refuses proposals meanwhile; the
   * proposal was not appended. Retry (at the new leader) shortly.
   */
  TransferInProgress: 'RAFT_TRANSFER_IN_PROGRESS',
  /** Recoverable: a leadership transfer did not complete within an election timeout. */
  TransferAborted: 'RAFT_TRANSFER_ABORTED',
  /** Requested log entries were compacted into a snapshot. */
  Compacted: 'RAFT_COMPACTED',
  /** Requested log entries do not exist (yet). */
  Unavailable: 'RAFT_UNAVAILABLE',
  /** Invalid configuration; thrown at construction. */
  InvalidConfig: 'RAFT_INVALID_CONFIG',
  /** Invalid argument to an API call. */
  InvalidArgument: 'RAFT_INVALID_ARGUMENT',
  /** Fatal: stored data failed its checksum or could not be decoded. */
  StorageCorrupt: 'RAFT_STORAGE_CORRUPT',
  /** Fatal: the storage could not persist or read. */
  StorageFailed: 'RAFT_STORAGE_FAILED',
  /**
   * Fatal: this node's storage holds fewer entries than it is known to have made durable (a
   * damaged, truncated or deleted write-ahead log, or a restored backup of the data directory).
   * Serving on would break Raft's quorum guarantees; the member must be wiped and re-added.
   */
  StorageLost: 'RAFT_STORAGE_LOST',
  /** Fatal: stored data is from a newer, unknown format version. */
  StorageVersion: 'RAFT_STORAGE_VERSION',
  /** Fatal: an internal invariant was broken; the node must stop. */
  InvariantViolated: 'RAFT_INVARIANT_VIOLATED',
  /**
   * Recoverable: a snapshot being received failed its checksum (a chunk's CRC-32C, or the
   * whole snapshot's SHA-256). It is never installed; the sender resends.
   */
  SnapshotCorrupt: 'RAFT_SNAPSHOT_CORRUPT',
  /** A transport received or was asked to send a malformed message. */
  BadMessage: 'RAFT_BAD_MESSAGE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const fatalCodes: ReadonlySet<string> = new Set([
  ErrorCode.StorageCorrupt,
  ErrorCode.StorageFailed,
  ErrorCode.StorageVersion,
  ErrorCode.StorageLost,
  ErrorCode.InvariantViolated,
]);

/**
 * Marks raftkit errors. `Symbol.for` is one symbol per process, shared by every copy of this
 * package (its ESM and CJS builds, or two versions), where `instanceof` sees only its own class.
 */
export const RAFT_ERROR_BRAND: unique symbol = Symbol.for('raftkit.error');

/** Base class of every raftkit error. Recognise one with `isRaftError`, not `instanceof`. */
export class RaftError extends Error {
  readonly code: ErrorCode;
  declare readonly [RAFT_ERROR_BRAND]: true;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'RaftError';
    Object.defineProperty(this, RAFT_ERROR_BRAND, { value: true });
  }
  /** Fatal errors stop the node; the others are answers to one call. */
  get fatal(): boolean {
    return fatalCodes.has(this.code);
  }
}

/** Thrown or rejected when a leader-only operation reaches a non-leader. */
export class NotLeaderError extends RaftError {
  /** The node this one believes is leader, or null if it does not know. */
  readonly leaderHint: NodeId | null;
  constructor(leaderHint: NodeId | null, message = 'not the leader') {
    super(ErrorCode.NotLeader, leaderHint ? `${message}; try ${leaderHint}` : message);
    this.name = 'NotLeaderError';
    this.leaderHint = leaderHint;
  }
}

/**
 * Whether `err` is a raftkit error (with `code`, if given). Checks the brand and the code, not
 * the class, so errors thrown by another copy of @raftkit/core are recognised too.
 */
export function isRaftError(err: unknown, code?: ErrorCode): err is RaftError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { [RAFT_ERROR_BRAND]?: unknown; code?: unknown };
  return e[RAFT_ERROR_BRAND] === true && typeof e.code === 'string' && (code === undefined || e.code === code);
}

/** Whether `err` is a raftkit RAFT_NOT_LEADER error (from any copy of @raftkit/core), with its `leaderHint`. */
export function isNotLeaderError(err: unknown): err is NotLeaderError {
  return isRaftError(err, ErrorCode.NotLeader) && 'leaderHint' in err;
}

/** Throws an InvariantViolated error unless `cond` holds. */
export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new RaftError(ErrorCode.InvariantViolated, `invariant violated: ${message}`);
}
