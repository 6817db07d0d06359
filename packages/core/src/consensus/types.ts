import type { MembershipConfig } from './membership/config.js';

/** A node's identity, unique within a cluster. */
export type NodeId = string;

/** What an entry carries. */
export const EntryType = {
  /** Application data, handed to the state machine. */
  Normal: 0,
  /** The empty entry a new leader appends to commit its term (Raft §5.4.2, §8). */
  Noop: 1,
  /**
   * A membership change (thesis §4.1): `data` is {@link encodeConfEntry} of the whole new
   * configuration. It takes effect as soon as it is appended, committed or not, and is never
   * handed to a state machine that did not ask for it.
   */
  ConfChange: 2,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/**
 * The largest term a node ever adopts (2^48, far beyond any real cluster's lifetime: an
 * election a millisecond for 8,900 years). A message claiming a larger term is forged or
 * corrupt; it is dropped on receipt so it cannot push every node to a term it cannot campaign
 * past (terms are u64 on the wire but must stay safe integers here).
 */
export const MAX_TERM = 2 ** 48;

/** One log entry. Invariant: index >= 1, term >= 1. */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * The state a node must persist before it answers anyone (Raft Figure 2 "persistent state").
 * `commit` is persisted too, so a restarted node need not rediscover it; it is only a hint
 * and never exceeds what was durable in the log.
 */
export interface HardState {
  readonly term: number;
  /** Whom this node voted for in `term`, or null. Invariant: at most one vote per term. */
  readonly vote: NodeId | null;
  readonly commit: number;
}

export const emptyHardState: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });

/**
 * A cluster's membership at one point of the log: who votes, who learns, and where each
 * member can be reached. `addresses` is opaque to the core (the runtime hands it to the
 * transport); it may lack members whose address is given some other way.
 */
export interface ConfState {
  readonly config: MembershipConfig;
  readonly addresses: Readonly<Record<NodeId, string>>;
}

/** Describes the log prefix a snapshot replaces. */
export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** The voters (of both halves, if joint) at `index`; kept for storage written before membership. */
  readonly voters: readonly NodeId[];
  /**
   * The membership in force at `index`. Absent only in snapshots written before membership
   * changes existed; those mean `voters` with no learners.
   */
  readonly membership?: ConfState;
}

/** A state machine snapshot with its position in the log. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** The role a node plays in its current term. */
export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** State that is not persisted, reported so a runtime or client can follow the cluster. */
export interface SoftState {
  readonly role: Role;
  readonly term: number;
  /** Who this node believes leads `term`, or null. */
  readonly leader: NodeId | null;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term (for pre-vote requests: the term it would campaign in). */
  readonly term: number;
}

/** RequestVote (Raft §5.2) or, with `preVote`, the pre-vote probe (thesis §9.6). */
export interface VoteRequest extends MessageBase {
  readonly type: 'vote';
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /**
   * Set by a leadership-transfer target (thesis §3.10): the leader that handed over. A voter
   * that follows exactly that leader in the previous term ignores its leader stickiness for
   * this election (that leader stopped serving leases when it began the transfer).
   */
  readonly transferFrom?: NodeId;
}

export interface VoteResponse extends MessageBase {
  readonly type: 'voteResponse';
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** AppendEntries (Raft §5.3). */
export interface AppendRequest extends MessageBase {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponse extends MessageBase {
  readonly type: 'appendResponse';
  readonly success: boolean;
  /**
   * On success: the last index the follower now matches. On rejection: the index the
   * rejected request was checked at (`prevIndex`), so stale rejections can be ignored.
   */
  readonly index: number;
  /** On rejection: the follower's term at `prevIndex` (0 if it has no entry there). */
  readonly conflictTerm: number;
  /**
   * On rejection: the first index the follower holds of `conflictTerm`, or, if it has no entry
   * at `prevIndex`, its last index + 1. Lets the leader skip a whole term per round trip.
   */
  readonly conflictIndex: number;
}

/**
 * Leader heartbeat. Carries `commit` capped at the follower's known match index, so a
 * follower never learns a commit index beyond what it is known to hold. `context` > 0 asks
 * for an acknowledgement that confirms leadership for pending ReadIndex requests (thesis §6.4).
 */
export interface HeartbeatRequest extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context: number;
}

export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly context: number;
}

/**
 * InstallSnapshot (Raft §7): the follower needs entries the leader has compacted, so it needs
 * the leader's snapshot at `meta`. The message carries only the position: the bytes travel
 * separately (`snapshotChunk`, streamed by RaftNode). A leader's core emits this to say "send
 * this follower the snapshot"; a follower's core steps it once the runtime holds the whole,
 * verified snapshot.
 */
export interface SnapshotRequest extends MessageBase {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
}

/**
 * One chunk of a snapshot a leader streams to a follower that needs it. The runtime sends
 * and answers these (RaftNode's snapshot transfer); the consensus core never steps them: it
 * only decides that a follower needs a snapshot, and steps the `snapshot` message the
 * follower's runtime makes once every byte arrived and the checksum matched.
 */
export interface SnapshotChunkRequest extends MessageBase {
  readonly type: 'snapshotChunk';
  readonly meta: SnapshotMeta;
  /** The whole snapshot's length in bytes and SHA-256 (hex): they identify it, and are checked once it is whole. */
  readonly size: number;
  readonly checksum: string;
  /** Where `data` starts in the snapshot. An empty chunk at offset 0 opens (or resumes) a transfer. */
  readonly offset: number;
  readonly data: Uint8Array;
  /** CRC-32C of `data`. */
  readonly crc: number;
}

/** How a follower took a snapshot chunk. */
export type SnapshotChunkStatus =
  /** Stored durably (or already held); send from `next` on. */
  | 'ok'
  /** Every byte arrived, the checksum matched, and the snapshot went to the consensus core. */
  | 'done'
  /** The chunk failed its CRC, or the whole snapshot its checksum (then `next` is 0): resend from `next`. */
  | 'corrupt'
  /** Refused (a stale term, or the follower is stopping): stop sending. */
  | 'rejected';

export interface SnapshotChunkResponse extends MessageBase {
  readonly type: 'snapshotChunkResponse';
  /** The snapshot this answers: its index and checksum. */
  readonly index: number;
  readonly checksum: string;
  /** Bytes the follower holds durably: where the sender continues. */
  readonly next: number;
  readonly status: SnapshotChunkStatus;
}

/** A follower asks the leader for a read index on behalf of a client (thesis §6.4). */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'readIndex';
  /** Opaque id chosen by the follower, echoed in the response. */
  readonly requestId: string;
}

export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly requestId: string;
  /** The read index, or 0 if the leader could not serve it (not leader any more). */
  readonly index: number;
}

/** Leadership transfer (thesis §3.10): the leader tells an up-to-date voter to campaign now. */
export interface TimeoutNowRequest extends MessageBase {
  readonly type: 'timeoutNow';
}

/** Every message a Raft node sends or receives. */
export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotRequest
  | SnapshotChunkRequest
  | SnapshotChunkResponse
  | ReadIndexRequest
  | ReadIndexResponse
  | TimeoutNowRequest;

export type MessageType = Message['type'];

const messageTypeSet = {
  vote: true,
  voteResponse: true,
  append: true,
  appendResponse: true,
  heartbeat: true,
  heartbeatResponse: true,
  snapshot: true,
  snapshotChunk: true,
  snapshotChunkResponse: true,
  readIndex: true,
  readIndexResponse: true,
  timeoutNow: true,
} as const satisfies Record<MessageType, true>;

/** Every message type of the `Message` union; the `satisfies` above keeps it exhaustive. */
export const MESSAGE_TYPES: readonly MessageType[] = Object.freeze(Object.keys(messageTypeSet) as MessageType[]);
