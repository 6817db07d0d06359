import { EventEmitter } from 'node:events';
import type { RaftConfig } from '../consensus/config.js';
import type { RaftNodeEvents, RaftNodeOptions, RaftNodeStatus } from './options.js';
import { RawNode, type MembershipStatus, type Ready } from '../consensus/rawNode.js';
import type { Entry, Message, NodeId, SnapshotMeta, SoftState } from '../consensus/types.js';
import { ErrorCode, NotLeaderError, RaftError, isRaftError } from '../errors.js';
import { realClock, type Clock } from './clock.js';
import { Conditions } from './conditions.js';
import { TickCounter } from './tickCounter.js';
import { type MembershipChangeSpec, type MembershipOpOptions, MembershipOps } from './membershipOps.js';
import { PendingProposals, PendingReads } from './pending.js';
import { validateNodeOptions } from './validateOptions.js';
import { WritePipeline } from './writePipeline.js';
import { Applier } from './applier.js';
import { CommitCoalescer } from './commitCoalescer.js';
import { Snapshots } from './snapshots.js';
import { loadStored } from './loadStored.js';
import type { SnapshotReceiveStats } from './snapshotReceiver.js';
import type { SnapshotSendStats } from './snapshotSender.js';

/** Resolves after the current turn of the event loop (setImmediate where there is one). */
const nextTurn = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * Drives the pure consensus core with real time, durable storage, a transport and a state
 * machine, obeying the Ready ordering rule. Writes are pipelined (asyncStorageWrites): a
 * Ready's write is handed to storage and the loop goes on stepping messages and proposals
 * while it is in flight; a leader's replication leaves at once, acknowledgements and votes
 * once their write is durable. Committed entries apply in order, exactly once; reads are
 * served once applied.
 */
export class RaftNode<R = unknown> extends EventEmitter<RaftNodeEvents> {
  private readonly raw: RawNode;
  private readonly opts: RaftNodeOptions<R>;
  private readonly clock: Clock;
  private readonly proposals: PendingProposals<R>;
  private readonly reads: PendingReads;
  private ticker: unknown = null;
  private driving = false;
  private running = false;
  private failure: RaftError | null = null;
  private readonly applier: Applier<R>;
  private readSeq = 0;
  private softState: SoftState;
  private readonly ticks: TickCounter;
  /** Settles when the drive loop is idle; used by stop(). */
  private idle: Promise<void> = Promise.resolve();
  private readonly ops: MembershipOps;
  /** Conditions membership operations wait for, re-checked after every Ready and tick. */
  private readonly conditions: Conditions;
  private readonly writes: WritePipeline;
  private readonly snapshots: Snapshots<R>;
  /** Where sent messages go: commit-only AppendEntries wait there a moment (see CommitCoalescer). */
  private readonly outbox: CommitCoalescer;

  private constructor(opts: RaftNodeOptions<R>, raw: RawNode, applied: number) {
    super();
    this.opts = opts;
    this.raw = raw;
    this.clock = opts.clock ?? realClock;
    this.proposals = new PendingProposals<R>(this.clock);
    this.reads = new PendingReads(this.clock);
    this.applier = new Applier<R>(
      { raw, stateMachine: opts.stateMachine, proposals: this.proposals, reads: this.reads, noteApplied: (bytes) => this.snapshots.taker.noteApplied(bytes) },
      applied,
    );
    this.snapshots = new Snapshots<R>(
      {
        raw,
        storage: opts.storage,
        stateMachine: opts.stateMachine,
        clock: this.clock,
        electionMs: raw.electionTicks * this.tickMs(),
        applied: () => this.applier.applied,
        send: (messages) => this.sendNow(messages),
        step: (m) => this.onMessage(m),
        changed: () => this.drive(),
        fail: (err) => this.fatal(err),
        gaveUp: (peer, why) => void this.emit('snapshotTransferFailed', peer, why),
        taken: (info) => void this.emit('snapshot', info),
      },
      opts.snapshots ?? {},
      opts.snapshotEvery ?? 10_000,
      applied,
    );
    this.softState = raw.softState();
    this.outbox = new CommitCoalescer(this.clock, opts.commitCoalesceMs ?? 2, (messages) => this.opts.transport.send(messages));
    this.conditions = new Conditions(this.clock);
    this.writes = new WritePipeline({
      storage: opts.storage,
      clock: this.clock,
      persisted: (rd, ms, wrote) => {
        if (this.failure) return;
        this.raw.persisted(rd);
        if (wrote) this.emit('persisted', { entries: rd.entries.length, ms });
        this.drive();
      },
      send: (messages) => {
        // (The planted bug sent them already, before the write.)
        if (opts.testingBugs?.sendBeforePersist !== true) this.sendNow(messages);
      },
      fail: (error) => this.fatal(error),
    });
    this.ticks = new TickCounter(this.clock, this.tickMs(), 2 * raw.electionTicks + 1);
    this.ops = new MembershipOps({
      raw,
      clock: this.clock,
      maxLearnerLag: opts.maxLearnerLag ?? 1000,
      defaultTimeoutMs: opts.membershipTimeoutMs ?? 30_000,
      electionMs: raw.electionTicks * this.tickMs(),
      act: (fn) => {
        const err = this.unavailable();
        if (err) throw err;
        this.catchUpTicks();
        const out = fn(this.raw);
        this.drive();
        return out;
      },
      waitApplied: (index, term, timeoutMs) => this.proposals.add(index, term, timeoutMs),
      until: (check, timeoutMs, what, signal) => {
        const err = this.unavailable();
        return err ? Promise.reject(err) : this.conditions.until(check, timeoutMs, what, signal);
      },
    });
  }

  /** Opens a node from what its storage holds (restoring the state machine from a snapshot). */
  static async create<R>(opts: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    validateNodeOptions(opts as RaftNodeOptions<unknown>);
    const restored = await loadStored(opts.storage, opts.stateMachine);
    const config: RaftConfig = { ...opts, random: opts.random ?? Math.random, asyncStorageWrites: true };
    const raw = new RawNode(config, restored);
    return new RaftNode(opts, raw, restored.snapshot?.index ?? 0);
  }

  /** Counters of snapshot transfers sent and received (tests, metrics). */
  snapshotStats(): { sender: SnapshotSendStats; receiver: SnapshotReceiveStats } {
    return { sender: this.snapshots.sender.stats, receiver: this.snapshots.receiver.stats };
  }

  /**
   * Takes a snapshot of the state machine now (Raft §7) and compacts the log to the trailing
   * margin; resolves with the position of the node's latest snapshot. Snapshots are also taken
   * by policy (`snapshots.everyEntries` / `everyBytes`).
   */
  async snapshot(): Promise<SnapshotMeta> {
    const err = this.unavailable();
    if (err) throw err;
    return this.snapshots.takeNow();
  }

  get id(): NodeId {
    return this.raw.id;
  }

  /** Starts ticking and receiving messages. */
  async start(): Promise<void> {
    if (this.running || this.failure) return;
    this.running = true;
    await this.opts.transport.start({
      onMessage: (m) => this.onMessage(m),
      onUnreachable: (peer) => this.onUnreachable(peer),
    });
    this.ticks.start();
    this.ticker = this.clock.setInterval(() => this.onTick(), this.tickMs());
  }

  /**
   * Replicates `command` and resolves with the state machine's result once it is applied here.
   * Rejects with NotLeaderError (with the leader hint) on a follower, RAFT_TIMEOUT if it does
   * not apply in time (it may still apply later), RAFT_PROPOSAL_DROPPED if another leader's
   * entry took its place (it did not apply), RAFT_OUTCOME_UNKNOWN if a snapshot replaced the log
   * there first (it may have applied). An aborted `signal` rejects with the signal's reason:
   * like a timeout, it stops the waiting, not the proposal, which may still apply if it was
   * already appended; an already-aborted signal rejects at once and proposes nothing.
   */
  propose(command: Uint8Array, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<R> {
    const err = this.unavailable();
    if (err) return Promise.reject(err);
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    this.catchUpTicks();
    let pos: { index: number; term: number };
    try {
      pos = this.raw.propose(command);
    } catch (e) {
      return Promise.reject(e);
    }
    const p = this.proposals.add(pos.index, pos.term, opts.timeoutMs ?? this.opts.requestTimeoutMs ?? 5000, opts.signal);
    this.drive();
    return p;
  }

  /**
   * A linearizable read point (thesis §6.4): resolves with an index once this node has applied
   * it and the leader confirmed it was still leader. Reading the state machine after that is
   * linearizable. Works on followers (forwarded to the leader).
   *
   * With `lease: true` a leader holding a valid lease (thesis §6.4.1, needs check-quorum)
   * skips the heartbeat round; otherwise the read falls back to ReadIndex. An aborted `signal`
   * rejects with the signal's reason (an already-aborted one at once, asking nobody).
   */
  readIndex(opts: { timeoutMs?: number; lease?: boolean; signal?: AbortSignal } = {}): Promise<number> {
    const err = this.unavailable();
    if (err) return Promise.reject(err);
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    // The lease is judged now, against the clock: a stall (SIGSTOP, a long GC or a blocking
    // call) that outlasted the lease must have expired it before we answer from it.
    this.catchUpTicks();
    const leaseIndex = opts.lease ? this.raw.leaseReadIndex() : 0;
    // A lease read whose index is applied already is answered at once: no waiter, no timer.
    if (leaseIndex > 0 && this.applier.applied >= leaseIndex) return Promise.resolve(leaseIndex);
    const requestId = `${this.id}:${++this.readSeq}`;
    const p = this.reads.add(requestId, opts.timeoutMs ?? this.opts.requestTimeoutMs ?? 5000, opts.signal);
    if (leaseIndex > 0) {
      this.reads.confirmed(requestId, leaseIndex, this.applier.applied, () => null);
      return p;
    }
    this.raw.readIndex(requestId);
    this.drive();
    return p;
  }

  /**
   * Resolves with the leader's id once this node knows one (at once if it does): after
   * `start()`, before the first `propose`. Rejects with RAFT_TIMEOUT after `timeoutMs`
   * (default `membershipTimeoutMs`, 30000), the signal's reason if `signal` aborts, RAFT_STOPPED
   * if the node stops. A known leader may since have lost office: `propose` can still answer
   * RAFT_NOT_LEADER, with a hint.
   */
  async waitForLeader(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<NodeId> {
    const err = this.unavailable();
    if (err) throw err;
    let leader: NodeId | null = null;
    const known = (): boolean => (leader = this.raw.softState().leader) !== null;
    const timeoutMs = opts.timeoutMs ?? this.opts.membershipTimeoutMs ?? 30_000;
    await this.conditions.until(known, timeoutMs, 'waiting for a leader', opts.signal);
    return leader as unknown as NodeId;
  }

  /** The membership this node follows (the latest configuration in its log, committed or not). */
  membership(): MembershipStatus {
    return this.raw.membership();
  }

  /** Adds a non-voting member (leader only); resolves once the change is committed. */
  addLearner(id: NodeId, address?: string, opts?: MembershipOpOptions): Promise<MembershipStatus> {
    return this.ops.addLearner(id, address, opts);
  }

  /**
   * Adds a voter safely: as a learner first, promoted once it has caught up to within
   * `maxLearnerLag` entries. Resolves once the promotion is committed.
   */
  addVoter(id: NodeId, address?: string, opts?: MembershipOpOptions): Promise<MembershipStatus> {
    return this.ops.addVoter(id, address, opts);
  }

  /** Promotes a learner; RAFT_LEARNER_BEHIND if it lags more than `maxLearnerLag` entries. */
  promote(id: NodeId, opts?: MembershipOpOptions): Promise<MembershipStatus> {
    return this.ops.promote(id, opts);
  }

  /** Removes a member (the leader too: it steps down once the removal commits). */
  remove(id: NodeId, opts?: MembershipOpOptions): Promise<MembershipStatus> {
    return this.ops.remove(id, opts);
  }

  /**
   * Any change, joint if more than one voter changes (thesis §4.3); resolves once it is
   * committed and, with auto-leave, once the joint configuration has been left.
   */
  changeMembership(spec: MembershipChangeSpec, opts?: MembershipOpOptions): Promise<MembershipStatus> {
    return this.ops.change(spec, opts);
  }

  /**
   * Hands leadership to `to` (default: the most up-to-date voter, thesis §3.10); resolves with
   * the new leader's id once it leads, rejects with RAFT_TRANSFER_ABORTED if it did not happen
   * within an election timeout, NotLeaderError on a follower.
   */
  transferLeadership(to?: NodeId, opts?: MembershipOpOptions): Promise<NodeId> {
    return this.ops.transfer(to, opts);
  }

  status(): RaftNodeStatus {
    return { ...this.raw.status(), appliedIndex: this.applier.applied, running: this.running };
  }

  /**
   * Read-only access to the in-memory log, for invariant checkers and debugging tools:
   * entries lo <= index < hi (throws RAFT_COMPACTED below the snapshot) and terms.
   */
  inspect(): { entries(lo: number, hi: number): Entry[]; term(index: number): number } {
    return { entries: (lo, hi) => this.raw.entries(lo, hi), term: (i) => this.raw.term(i) };
  }

  /** Campaigns now instead of waiting for an election timeout. */
  campaign(): void {
    if (!this.running) return;
    this.raw.campaign();
    this.drive();
  }

  /**
   * Stops timers and the transport, lets the current write finish, closes nothing else. A
   * leader first hands leadership to the most up-to-date voter (at most `transferTimeoutMs`,
   * default one election timeout), so a rolling restart costs no election; pass
   * `transferLeadership: false` to skip that. With an injected clock the default is not to
   * transfer (the wait would run on that clock): pass `transferLeadership: true` to.
   */
  async stop(opts: { transferLeadership?: boolean; transferTimeoutMs?: number } = {}): Promise<void> {
    if (!this.running && this.ticker === null) return;
    const transfer = opts.transferLeadership ?? this.clock === realClock;
    if (transfer && this.running) await this.ops.handOver(opts.transferTimeoutMs ?? this.raw.electionTicks * this.tickMs());
    this.running = false;
    if (this.ticker !== null) this.clock.clearInterval(this.ticker);
    this.ticker = null;
    // Waiters learn at once; a proposal may still have been committed (its outcome is unknown).
    const stopped = new RaftError(ErrorCode.Stopped, `node ${this.id} stopped; outcomes of pending proposals are unknown`);
    this.proposals.rejectAll(stopped);
    this.reads.rejectAll(stopped);
    this.conditions.failAll(stopped);
    await this.idle;
    await this.snapshots.stop();
    await this.writes.settled();
    this.writes.flushCommit();
    await this.writes.settled();
    // Followers hear of the last commits now rather than from the next leader.
    this.outbox.flush();
    await this.opts.transport.close();
  }

  private unavailable(): RaftError | null {
    if (this.failure) return this.failure;
    if (!this.running) return new RaftError(ErrorCode.Stopped, `node ${this.id} is not running`);
    return null;
  }

  private tickMs(): number {
    return this.opts.tickMs ?? 50;
  }

  private onTick(): void {
    if (!this.running) return;
    if (this.opts.testingBugs?.tickByCallbacks === true) this.raw.tick();
    else this.catchUpTicks();
    this.snapshots.tick(this.raw.softState().role === 'leader');
    this.drive();
    this.conditions.check();
    this.writes.flushCommit();
  }

  /** Hands the core every tick due by the monotonic clock (see TickCounter). */
  private catchUpTicks(): void {
    if (this.opts.testingBugs?.tickByCallbacks === true) return;
    const due = this.ticks.due();
    for (let n = due; n > 0; n--) this.raw.tick();
    if (due > 0) this.noteSoftState(this.raw.softState());
  }

  private onMessage(m: Message): void {
    if (!this.running) return;
    if (this.snapshots.onMessage(m)) return;
    try {
      this.catchUpTicks();
      this.raw.step(m);
      // A change of role is reported now, not with the next Ready a turn later: a caller whose
      // proposal was just refused must already see that this node stepped down.
      this.noteSoftState(this.raw.softState());
    } catch (err) {
      this.fatal(err);
      return;
    }
    this.drive();
  }

  /** Runs Readies until there are none; one loop at a time. */
  private drive(): void {
    if (this.driving || !this.running) return;
    this.driving = true;
    this.idle = (async () => {
      // Let every proposal and message that arrives in this turn of the event loop (all the
      // requests and peer messages read in one poll phase) join this Ready: one write, one
      // AppendEntries per follower for all of them, instead of one each.
      await nextTurn();
      try {
        while (this.running && this.raw.hasReady()) {
          const rd = this.raw.ready();
          await this.handleReady(rd);
          this.raw.advance(rd);
          this.conditions.check();
          this.snapshots.taker.maybeStart();
        }
      } catch (err) {
        this.fatal(err);
      } finally {
        this.driving = false;
      }
    })();
  }

  private async handleReady(rd: Ready): Promise<void> {
    this.noteSoftState(rd.softState);
    if (rd.membership) {
      // Before sending: this Ready's messages may go to a member that is new.
      this.opts.transport.updatePeers?.(rd.membership.addresses);
      this.emit('membership', rd.membership);
    }
    if (this.opts.testingBugs?.sendBeforePersist === true && rd.messages.length > 0) this.sendNow(rd.messages);
    if (rd.snapshot) await this.installReceived(rd);
    else this.writes.submit(rd);
    // Thesis §10.2.1: a leader's replication leaves while its own write is in flight.
    if (rd.messagesBeforePersist.length > 0) this.sendNow(rd.messagesBeforePersist);
    for (const e of rd.committedEntries) await this.applier.apply(e);
    if (rd.committedEntries.length > 0) this.emit('applied', this.applier.applied);
    for (const rs of rd.readStates) {
      this.reads.confirmed(rs.requestId, rs.index, this.applier.applied, () => new NotLeaderError(this.raw.softState().leader, 'read not confirmed by a leader'));
    }
  }

  /** A snapshot from the leader: after every earlier write, install it, then the rest of its Ready. */
  private async installReceived(rd: Ready): Promise<void> {
    await this.writes.settled();
    if (this.failure) throw this.failure;
    await this.snapshots.taker.installReceived(rd.snapshot!);
    this.applier.restored(rd.snapshot!.index);
    if (rd.entries.length > 0 || rd.hardState) {
      await this.opts.storage.save({ ...(rd.hardState ? { hardState: rd.hardState } : {}), entries: rd.entries, sync: rd.mustSync });
    }
    this.raw.persisted(rd);
    if (this.opts.testingBugs?.sendBeforePersist !== true && rd.messages.length > 0) this.sendNow(rd.messages);
  }

  /** Sends now; a `snapshot` message becomes a snapshot transfer instead. */
  private sendNow(messages: readonly Message[]): void {
    if (!this.running) return;
    const rest = this.snapshots.route(messages);
    if (rest.length > 0) this.outbox.route(rest);
  }

  private noteSoftState(s: SoftState): void {
    const prev = this.softState;
    if (prev.role === s.role && prev.term === s.term && prev.leader === s.leader) return;
    this.softState = s;
    // A read forwarded to the old leader will not be answered by anyone else: fail it now
    // (the caller retries where the new leader is) instead of letting it wait for its deadline.
    if (prev.leader !== s.leader || prev.term !== s.term) {
      this.reads.rejectUnconfirmed(() => new NotLeaderError(s.leader, `leader changed (term ${s.term}) before the read was confirmed; retry it`));
    }
    this.emit('stateChange', s);
  }

  /** The transport gave up on `peer` for now; reads waiting on it as our leader fail fast. */
  private onUnreachable(peer: NodeId): void {
    if (!this.running) return;
    this.raw.reportUnreachable(peer);
    const st = this.raw.softState();
    if (st.role !== 'leader' && st.leader === peer) {
      this.reads.rejectUnconfirmed(() => new NotLeaderError(null, `leader ${peer} is unreachable; the read was not confirmed, retry it`));
    }
  }

  /** A storage failure or broken invariant: stop everything, fail every waiter. */
  private fatal(err: unknown): void {
    const e = isRaftError(err) ? err : new RaftError(ErrorCode.StorageFailed, `node ${this.id} failed: ${String(err)}`, { cause: err });
    if (this.failure) return;
    this.failure = e;
    this.running = false;
    if (this.ticker !== null) this.clock.clearInterval(this.ticker);
    this.ticker = null;
    this.proposals.rejectAll(e);
    this.reads.rejectAll(e);
    this.conditions.failAll(e);
    this.outbox.close();
    void this.opts.transport.close().catch(() => {});
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
