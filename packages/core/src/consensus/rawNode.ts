import { ErrorCode, RaftError, invariant } from '../errors.js';
import type { RaftConfig } from './config.js';
import type { ProgressState } from './progress.js';
import { Raft, bootstrapState } from './raft.js';
import type { ReadState } from './readOnly.js';
import type { ConfChange } from './membership/config.js';
import { type ConfChangeOptions, confChangeSoonPossible, proposeConfChange } from './step/membership.js';
import { startTransfer } from './step/transfer.js';
import { leaseValid, readIndex } from './step/reads.js';
import type { ConfState, Entry, HardState, Message, NodeId, Role, SnapshotMeta, SoftState } from './types.js';

/**
 * One batch of work the core hands to its runtime.
 *
 * Ordering rule (the runtime must obey it, or safety is lost):
 * 1. Persist `snapshot` (if any), then `entries` and `hardState` (if any) — durably, with
 *    fsync when `mustSync` — in Ready order. `entries` whose first index is at or below the
 *    stored last index replace the stored suffix from that index on.
 * 2. `messages` leave only once this Ready's write and every earlier Ready's write are
 *    durable. A vote, a vote request, an acknowledgement, anything a follower or candidate
 *    says, and anything said in a term whose vote is not yet durable is among them: leaving
 *    before the state it promises is durable, it can be forgotten in a crash (Raft §5.2,
 *    §5.3, Figure 2).
 * 3. `messagesBeforePersist` may leave at once, before any write is durable (thesis §10.2.1:
 *    a leader replicates in parallel with its own write). Only a leader whose term and vote are
 *    already durable puts anything there: AppendEntries, heartbeats, snapshots, read
 *    confirmations and TimeoutNow of its own term. They promise nothing about its disk: the
 *    leader counts its own entries toward the commit quorum only once they are durable
 *    (`advance`, or `persisted` with `asyncStorageWrites`). Empty unless `asyncStorageWrites`.
 * 4. If `snapshot` is set, restore the state machine from it before applying
 *    `committedEntries` (which then follow the snapshot). With `asyncStorageWrites`, install it
 *    only after every earlier write is durable, and before `advance`.
 * 5. `committedEntries` are already durable and committed: apply them in order, exactly once.
 *    They may be applied before, during or after sending messages.
 * 6. Serve each `readStates` read once the state machine has applied its `index`
 *    (index 0 means the read could not be confirmed and must fail or retry).
 * 7. Call `advance(ready)` once all of the above is done (with `asyncStorageWrites`: once the
 *    write is handed to storage, messagesBeforePersist sent, entries applied), before asking
 *    for the next Ready. With `asyncStorageWrites`, also call `persisted(ready)` once its write
 *    is durable, for every Ready with a write (`hasWrite`), in Ready order.
 */
export interface Ready {
  /** Role, term and known leader; always present so a runtime can report them. */
  readonly softState: SoftState;
  /** Hard state to persist, or null if unchanged since the last Ready. */
  readonly hardState: HardState | null;
  /** Entries to append durably. */
  readonly entries: readonly Entry[];
  /**
   * A snapshot from the leader to install and restore, or null: its position only. The
   * runtime received and verified its bytes before it stepped the `snapshot` message.
   */
  readonly snapshot: SnapshotMeta | null;
  /** Entries to apply to the state machine, in order. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send once the state above (and every earlier Ready's) is durable. */
  readonly messages: readonly Message[];
  /** Messages that may leave before anything is durable (rule 3; `asyncStorageWrites` only). */
  readonly messagesBeforePersist: readonly Message[];
  /** Confirmed ReadIndex requests. */
  readonly readStates: readonly ReadState[];
  /**
   * Whether the persistence part must be fsync'd before `messages` leave: true when it holds
   * entries, a snapshot, or a new term or vote. A change of the commit index alone need not be
   * synced: it is a hint that a restarted node rediscovers (etcd's MustSync).
   */
  readonly mustSync: boolean;
  /**
   * The membership in force, when it changed since the last Ready (an appended, truncated or
   * snapshotted configuration entry); null otherwise. Hand its addresses to the transport
   * before sending `messages`: they may go to a member that did not exist before.
   */
  readonly membership: MembershipStatus | null;
}

/** A node's view of the cluster's membership. */
export interface MembershipStatus extends ConfState {
  /** Index of the entry that set it (0: the bootstrap configuration, not yet in the log). */
  readonly index: number;
  /** Whether that entry is known committed. */
  readonly committed: boolean;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  /** Leader only: replication state per member, learners included (this node included). */
  readonly progress: Readonly<Record<NodeId, { match: number; next: number; state: ProgressState }>>;
  /** The membership this node follows. */
  readonly membership: MembershipStatus;
  /** Leader only: the voter leadership is being transferred to, or null. */
  readonly transferee: NodeId | null;
}

/** What a node restarts from: exactly what its storage made durable. */
export interface RestoredState {
  readonly hardState: HardState;
  /** The held entries, in order (they may start below the snapshot: a trailing log). */
  readonly entries: readonly Entry[];
  readonly snapshot: SnapshotMeta | null;
  /**
   * Index and term of the entry just before `entries[0]` (everything up to it compacted).
   * Default: the snapshot's index and term (0 for none).
   */
  readonly compacted?: { readonly index: number; readonly term: number };
}

/**
 * The consensus core's API, in the spirit of etcd-io/raft's RawNode: feed it time (`tick`),
 * messages (`step`) and proposals; take a `Ready`, carry it out, `advance`. Deterministic:
 * the same config, random source and inputs give the same outputs.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private prevConf: { index: number; state: ConfState; committed: boolean };
  /** The Ready handed out and not yet advanced. Invariant: at most one at a time. */
  private outstanding: Ready | null = null;
  private readonly asyncWrites: boolean;
  /** asyncStorageWrites: Readies with a write handed out and not yet reported persisted, in order. */
  private readonly unpersisted: Ready[] = [];
  /** Term and vote known durable (the last persisted hard state). */
  private durable: { term: number; vote: NodeId | null };

  constructor(config: RaftConfig, restored?: RestoredState) {
    this.raft = new Raft(config, restored);
    this.prevHardState = this.raft.hardState();
    this.prevSoftState = this.softState();
    this.prevConf = { index: this.raft.confIndex, state: this.raft.conf, committed: this.confCommitted() };
    this.asyncWrites = this.raft.cfg.asyncStorageWrites;
    this.durable = { term: this.prevHardState.term, vote: this.prevHardState.vote };
  }

  /** The configured election timeout in ticks (the runtime bounds tick catch-up by it). */
  get electionTicks(): number {
    return this.raft.cfg.electionTicks;
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances logical time by one tick (elections, heartbeats, check-quorum). */
  tick(): void {
    this.raft.tick();
  }

  /** Delivers a message from a peer. Messages from unknown nodes are ignored. */
  step(message: Message): void {
    this.raft.step(message);
  }

  /**
   * Proposes commands (one entry each, sent to followers together). Returns the index of the
   * first; the rest follow consecutively, all in `term`. Throws NotLeaderError on a non-leader.
   */
  propose(data: Uint8Array | readonly Uint8Array[]): { index: number; term: number } {
    const datas = data instanceof Uint8Array ? [data] : data;
    if (datas.length === 0) throw new RaftError(ErrorCode.InvalidArgument, 'propose needs at least one command');
    for (const d of datas) {
      if (!(d instanceof Uint8Array)) throw new RaftError(ErrorCode.InvalidArgument, 'a command must be a Uint8Array');
    }
    return { index: this.raft.propose(datas), term: this.raft.term };
  }

  /**
   * Proposes a membership change (thesis §4.2 one-step, §4.3 joint consensus); see
   * {@link ConfChange}. Returns the position of its entry; the change takes effect as soon as
   * it is appended and is done once that entry commits (joint changes with auto-leave are done
   * when the leaving entry that follows commits). Throws, appending nothing, with
   * NotLeaderError, RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS, RAFT_TRANSFER_IN_PROGRESS,
   * RAFT_LEARNER_BEHIND or RAFT_INVALID_ARGUMENT (a change the configuration refuses).
   */
  /**
   * True while `proposeConfChange` would be refused (RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS) only
   * for a reason that passes by itself: the previous change or this leader's first entry is not
   * committed yet, or a joint configuration is being left automatically. The runtime waits on it.
   */
  confChangePending(): boolean {
    return confChangeSoonPossible(this.raft);
  }

  proposeConfChange(cc: ConfChange, opts?: ConfChangeOptions): { index: number; term: number } {
    if (cc === null || typeof cc !== 'object') throw new RaftError(ErrorCode.InvalidArgument, 'a configuration change must be an object');
    return { index: proposeConfChange(this.raft, cc, opts), term: this.raft.term };
  }

  /**
   * Starts handing leadership to `to` (default: the voter with the most of the log); returns
   * the target (this node's id when it is the target: nothing to do). Throws NotLeaderError
   * on a follower, RAFT_INVALID_ARGUMENT if the target is not a voter. Watch `softState` for
   * the outcome; `status().transferee` turns null when the transfer ends either way.
   */
  transferLeadership(to?: NodeId): NodeId {
    return startTransfer(this.raft, to ?? null);
  }

  /** The membership in force (the latest configuration in the log, committed or not). */
  membership(): MembershipStatus {
    return { ...this.raft.conf, index: this.raft.confIndex, committed: this.confCommitted() };
  }

  /**
   * The membership in force at `index` (which must not be below the snapshot): what a
   * snapshot taken at `index` must carry.
   */
  confStateAt(index: number): ConfState {
    return this.raft.log.confAt(index)?.state ?? bootstrapState(this.raft.cfg);
  }

  private confChanged(): boolean {
    const p = this.prevConf;
    return p.index !== this.raft.confIndex || p.state !== this.raft.conf || p.committed !== this.confCommitted();
  }

  private confCommitted(): boolean {
    return this.raft.confIndex <= this.raft.log.committed;
  }

  /** Asks for a linearizable read point (thesis §6.4); the answer arrives in `readStates`. */
  readIndex(requestId: string): void {
    readIndex(this.raft, requestId);
  }

  /**
   * Thesis §6.4.1: if this leader's lease is valid, the index at which a read may be served
   * without a heartbeat round (once applied); otherwise 0. Requires check-quorum; safe only
   * while clocks drift less than `leaseDriftTicks` per election timeout.
   */
  leaseReadIndex(): number {
    return leaseValid(this.raft) ? this.raft.log.committed : 0;
  }

  /** Starts an election now (tests and operators). */
  campaign(): void {
    if (this.raft.role !== 'leader') this.raft.campaign(this.raft.cfg.preVote);
  }

  /** The transport could not reach `peer`: stop streaming to it and probe instead. */
  reportUnreachable(peer: NodeId): void {
    const pr = this.raft.progress.get(peer);
    if (pr && pr.state === 'replicate') pr.becomeProbe();
  }

  /**
   * The runtime made a snapshot of the state machine at `meta.index` (<= the applied index)
   * durable, as the storage's snapshot: followers that need one get this one from now on.
   * Nothing is compacted: see `compact`.
   */
  snapshotTaken(meta: SnapshotMeta): void {
    this.raft.log.snapshotTaken(meta);
  }

  /**
   * The runtime compacted storage up to `index` (<= the snapshot's index): drop those entries
   * from memory too. A follower that needs one of them is sent the snapshot.
   */
  compact(index: number): void {
    this.raft.log.compact(index);
  }

  /** The latest snapshot's position (index 0 if none) and the index the held log starts after. */
  snapshotState(): { readonly snapshot: SnapshotMeta; readonly compacted: number } {
    return { snapshot: this.raft.log.snapshot, compacted: this.raft.log.compactedIndex() };
  }

  softState(): SoftState {
    return { role: this.raft.role, term: this.raft.term, leader: this.raft.leader };
  }

  hasReady(): boolean {
    const r = this.raft;
    if (this.outstanding) return false;
    const hs = r.hardState();
    return (
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.pendingAppend.entries ||
      r.pendingAppend.withCommit ||
      r.log.hasUnstable() ||
      r.log.pendingSnapshot !== null ||
      r.log.nextCommitted(1).length > 0 ||
      !sameHardState(hs, this.prevHardState) ||
      !sameSoftState(this.softState(), this.prevSoftState) ||
      this.confChanged()
    );
  }

  /** Collects the next batch of work. Call `advance(ready)` when it is done. */
  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called again before advance()');
    const r = this.raft;
    r.flushAppends();
    const hs = r.hardState();
    const entries = r.log.unstable();
    const snapshot = r.log.pendingSnapshot;
    const [messagesBeforePersist, messages] = this.splitMessages(r.msgs);
    const hardState = sameHardState(hs, this.prevHardState) ? null : hs;
    const ready: Ready = {
      softState: this.softState(),
      hardState,
      entries,
      snapshot,
      mustSync: entries.length > 0 || snapshot !== null || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote,
      committedEntries: r.log.nextCommitted(r.cfg.maxApplyBatch),
      messages,
      messagesBeforePersist,
      readStates: r.readStates,
      membership: this.confChanged() ? this.membership() : null,
    };
    this.prevConf = { index: r.confIndex, state: r.conf, committed: this.confCommitted() };
    r.msgs = [];
    r.readStates = [];
    this.prevSoftState = ready.softState;
    this.prevHardState = hs;
    this.outstanding = ready;
    if (this.asyncWrites && hasWrite(ready)) {
      const last = entries[entries.length - 1];
      if (last) r.log.inProgress = last.index;
      this.unpersisted.push(ready);
    }
    return ready;
  }

  /** Rule 3 of the Ready ordering: what a leader with a durable term and vote may send at once. */
  private splitMessages(msgs: Message[]): [Message[], Message[]] {
    const r = this.raft;
    if (!this.asyncWrites || r.role !== 'leader' || r.term !== this.durable.term || r.vote !== this.durable.vote) return [[], msgs];
    const early: Message[] = [];
    const late: Message[] = [];
    for (const m of msgs) (m.term === r.term && earlyTypes.has(m.type) ? early : late).push(m);
    return [early, late];
  }

  /** Records that `ready` was carried out as its ordering rule says. */
  advance(ready: Ready): void {
    invariant(ready === this.outstanding, 'advance() with a Ready that is not the outstanding one');
    this.outstanding = null;
    const r = this.raft;
    if (ready.snapshot) r.log.snapshotApplied(ready.snapshot.index);
    if (!this.asyncWrites) this.markDurable(ready);
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied) r.log.appliedTo(lastApplied.index);
  }

  /**
   * asyncStorageWrites: `ready`'s write (snapshot, entries, hard state) is durable. Call it
   * for every Ready with a write, in the order they were handed out, whether or not they were
   * advanced yet. Only now does a leader count those entries toward the commit quorum.
   */
  persisted(ready: Ready): void {
    invariant(this.asyncWrites, 'persisted() needs asyncStorageWrites (advance() marks writes durable)');
    invariant(this.unpersisted[0] === ready, 'persisted() out of Ready order, or for a Ready without a write');
    this.unpersisted.shift();
    this.markDurable(ready);
  }

  /** Whether a Ready was handed out whose write is not yet reported persisted. */
  hasUnpersisted(): boolean {
    return this.unpersisted.length > 0;
  }

  private markDurable(ready: Ready): void {
    const r = this.raft;
    if (ready.hardState) this.durable = { term: ready.hardState.term, vote: ready.hardState.vote };
    const last = ready.entries[ready.entries.length - 1];
    if (last) {
      r.log.stableTo(last.index, last.term);
      r.selfStable();
    }
  }

  status(): NodeStatus {
    const r = this.raft;
    const progress: Record<NodeId, { match: number; next: number; state: ProgressState }> = {};
    for (const [id, pr] of r.progress) progress[id] = { match: pr.match, next: pr.next, state: pr.state };
    return {
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      leader: r.leader,
      commitIndex: r.log.committed,
      appliedIndex: r.log.applied,
      lastIndex: r.log.lastIndex(),
      snapshotIndex: r.log.snapshot.index,
      progress,
      membership: this.membership(),
      transferee: r.leadTransferee,
    };
  }

  /** Read-only view of the log for tests and invariant checkers: entries lo <= i < hi. */
  entries(lo: number, hi: number): Entry[] {
    return this.raft.log.slice(lo, hi);
  }

  /** Term at `index` (0 past the end). */
  term(index: number): number {
    return this.raft.log.term(index);
  }
}

/** Whether a Ready asks for a write (and so, with asyncStorageWrites, a `persisted` call). */
export function hasWrite(ready: Ready): boolean {
  return ready.snapshot !== null || ready.entries.length > 0 || ready.hardState !== null;
}

/** What a leader sends that promises nothing about its own disk (Ready ordering rule 3). */
const earlyTypes: ReadonlySet<Message['type']> = new Set(['append', 'heartbeat', 'snapshot', 'readIndexResponse', 'timeoutNow']);

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.term === b.term && a.leader === b.leader;
}
