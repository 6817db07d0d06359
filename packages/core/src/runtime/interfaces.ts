import type { ConfState, Entry, HardState, Message, NodeId, SnapshotMeta } from '../consensus/types.js';
import type { SnapshotExpectation, SnapshotReader, SnapshotStream, SnapshotWriter } from './snapshotStore.js';

/** What a LogStorage holds when opened: enough to restart a node. */
export interface StoredState {
  readonly hardState: HardState;
  /** Metadata of the installed snapshot, or null if there is none. */
  readonly snapshot: SnapshotMeta | null;
  /** First index held in the log: 1 for a never-compacted log; at most `snapshot.index + 1`. */
  readonly firstIndex: number;
  /** Last index held; `firstIndex - 1` when the log is empty. */
  readonly lastIndex: number;
}

/** One durable write: any of these parts, applied atomically. */
export interface LogWrite {
  /** New hard state to persist. */
  readonly hardState?: HardState;
  /**
   * Entries to append, with consecutive indexes. If `entries[0].index <= lastIndex`, every
   * stored entry from that index on is discarded first (conflict truncation, Raft §5.3).
   */
  readonly entries?: readonly Entry[];
  /**
   * Default true. False only for a write that changes nothing but the commit index (a hint a
   * restarted node can rediscover): it may be buffered instead of fsync'd, and becomes durable
   * with the next synced write. Saves one fsync per commit (etcd's `MustSync`).
   */
  readonly sync?: boolean;
}

/**
 * Durable storage of a node's Raft log, hard state and latest snapshot.
 *
 * Correctness:
 * - `save` resolves only once everything it was given is durable (fsync'd): a crash after
 *   resolution loses none of it. A crash before resolution keeps either all of it or none.
 *   (Exception: `sync: false` writes, which only a later synced write makes durable.)
 * - Calls to `save` (and `installSnapshot`, `compact`) are applied in call order, even when
 *   issued concurrently, and resolve in that order; the log never has a hole and entries are
 *   never reordered. RaftNode keeps several saves in flight and relies on this.
 * - Entries from `entries(lo, hi)` are exactly what was saved: same index, term, type, bytes.
 *   Reading a compacted index rejects with RAFT_COMPACTED; reading past the last index
 *   rejects with RAFT_UNAVAILABLE. Corrupt data rejects with RAFT_STORAGE_CORRUPT, never
 *   returns wrong bytes.
 * - `term(i)` answers for `snapshot.index` too (the snapshot's term), for `firstIndex - 1`, and
 *   for every held entry.
 * - `installSnapshot(meta)` switches to a finished snapshot atomically; the log is kept whole
 *   if it agrees with the snapshot (same term at `meta.index`), else it is discarded entirely.
 * - `compact(i)` discards entries up to `i` inclusive (i <= lastIndex and i must be covered by
 *   the stored snapshot); it never discards an entry the latest snapshot does not cover. The
 *   log may so start below the snapshot (a trailing log): `term(firstIndex - 1)` still answers.
 * - Snapshot bytes are written and read as streams (`createSnapshot`, `openSnapshot`), never
 *   needing the whole snapshot in memory; a stored snapshot that fails its checks rejects with
 *   RAFT_STORAGE_CORRUPT, never returns wrong bytes.
 * - After `close()` resolves, reopening the same storage yields exactly what was durable.
 */
export interface LogStorage {
  /** Reads the durable state a node restarts from. */
  state(): Promise<StoredState>;
  /** Entries with lo <= index < hi. */
  entries(lo: number, hi: number): Promise<Entry[]>;
  /** Term of the entry at `index` (or of the snapshot at its index). */
  term(index: number): Promise<number>;
  /** Persists hard state and/or entries, durably and atomically. */
  save(write: LogWrite): Promise<void>;
  /**
   * Makes the snapshot at `meta`, which a writer from `createSnapshot` finished, the node's
   * snapshot, atomically: a crash leaves the old snapshot and log or the new ones, never a mix.
   * The log is kept whole if it holds the entry at `meta.index` with `meta.term` (a snapshot the
   * node took itself: compacting is the separate step `compact`); otherwise the whole log is
   * discarded and starts after `meta.index`. The snapshot it replaces, and any other finished or
   * partial snapshot at or below `meta.index`, is deleted (open readers keep working).
   */
  installSnapshot(meta: SnapshotMeta): Promise<void>;
  /**
   * Starts writing a snapshot at `meta`. Without `expected` (a snapshot this node takes) it
   * always starts empty. With `expected` (one received from a leader) it resumes a partial or
   * finished one with the same `meta.index`, `meta.term`, size and checksum, also after a
   * restart (`written` says how much is durable); any other partial received snapshot is
   * discarded.
   */
  createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter>;
  /** A reader of the node's (latest installed) snapshot, or null if it has none. */
  openSnapshot(): Promise<SnapshotReader | null>;
  /** Discards entries up to and including `index`, which the latest snapshot must cover. */
  compact(index: number): Promise<void>;
  /** Flushes and releases resources. */
  close(): Promise<void>;
}

/** Callbacks a Transport delivers into. */
export interface TransportHandler {
  /** An inbound message for this node. Must not throw. */
  onMessage(message: Message): void;
  /** `peer` could not be reached; the core will slow down replication to it. */
  onUnreachable?(peer: NodeId): void;
}

/**
 * Carries messages between nodes.
 *
 * Correctness:
 * - `send` never throws for an unreachable or slow peer and never blocks the caller;
 *   failures surface through `onUnreachable`, called later, never from inside `send` (the
 *   core must not be re-entered). A malformed message may throw RAFT_BAD_MESSAGE.
 * - Messages may be lost, delayed or duplicated (Raft tolerates all three), but a delivered
 *   message is exactly the message sent: never corrupted, never delivered to the wrong node.
 * - Messages from one sender to one receiver are delivered in send order unless the transport
 *   documents otherwise (the core tolerates reordering, but pipelining is less effective).
 * - After `close()` resolves nothing is delivered and nothing of the transport is left running.
 */
export interface Transport {
  /** This node's id. */
  readonly id: NodeId;
  /** Begins delivering inbound messages to `handler`. */
  start(handler: TransportHandler): Promise<void>;
  /** Queues messages for delivery; each carries its own `to`. */
  send(messages: readonly Message[]): void;
  /**
   * Optional: the addresses of the cluster's members, from the latest configuration entry
   * (called before any message to a new member is sent). A transport that routes by address
   * adds, updates and forgets peers here; peers it was configured with stay unless replaced.
   */
  updatePeers?(addresses: Readonly<Record<NodeId, string>>): void;
  /** Stops sending and receiving. */
  close(): Promise<void>;
}

/** A committed entry as the state machine sees it. */
export interface AppliedEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/**
 * The replicated application. Every node applies the same committed commands in the same
 * order, so every node's state machine goes through the same states.
 *
 * Correctness:
 * - `apply` is deterministic: its effect and result depend only on the state and the entry,
 *   never on time, randomness or the node it runs on.
 * - `apply` is called once per committed entry, in index order, with no gaps (after a
 *   `restore`, starting right after the snapshot's index).
 * - `snapshot()` captures the state after the last applied entry; `restore()` replaces the
 *   whole state with a snapshot's, so a restored machine behaves exactly like one that
 *   applied the same prefix of the log.
 * - A thrown error from `apply` is fatal to the node (the machines would diverge otherwise):
 *   report bad commands through the result, not by throwing.
 */
export interface StateMachine<Result = unknown> {
  apply(entry: AppliedEntry): Result | Promise<Result>;
  /**
   * The state after the last applied entry. A stream lets a state larger than memory be
   * written out chunk by chunk; its content must be fixed when `snapshot()` returns (later
   * `apply` calls must not change what it yields), so the node keeps applying while it is read.
   */
  snapshot(): Uint8Array | SnapshotStream | Promise<Uint8Array | SnapshotStream>;
  /**
   * Replaces the whole state with the snapshot's, read from `data` (chunk boundaries are
   * arbitrary). A machine small enough to read it whole can use `snapshotBytes(data)`.
   */
  restore(data: SnapshotStream, meta: SnapshotMeta): void | Promise<void>;
  /**
   * Optional: called, in log order with `apply`, for each committed membership change (the
   * configuration it moved to). State machines that do not define it never see them.
   */
  applyMembership?(index: number, membership: ConfState): void | Promise<void>;
}
