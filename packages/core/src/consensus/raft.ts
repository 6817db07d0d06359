import { ErrorCode, NotLeaderError, RaftError, invariant } from '../errors.js';
import { resolveConfig, type RaftConfig, type ResolvedConfig } from './config.js';
import { LeaderLease } from './lease.js';
import { Progress } from './progress.js';
import { JointConfig } from './membership/joint.js';
import { allMembers, bootstrapConfig, emptyConfig, quorumOf } from './membership/config.js';
import { encodeConfEntry, pruneAddresses } from './membership/entry.js';
import { refreshConf } from './step/membership.js';
import { RaftLog } from './raftLog.js';
import { ReadOnly, type ReadState } from './readOnly.js';
import { ForwardedReads } from './forwardedReads.js';
import { abortReads, forwardReads } from './step/reads.js';
import { stepCandidate, tickElection } from './step/candidate.js';
import { stepFollower } from './step/follower.js';
import { stepLeader, tickLeader } from './step/leader.js';
import { bcastAppend, maybeCommit } from './step/replication.js';
import { EntryType, MAX_TERM, type ConfState, type Entry, type HardState, type Message, type NodeId, type Role, type SnapshotMeta } from './types.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A message before the sender fills in `from` (and, unless given, `term`). */
export type Outgoing = DistributiveOmit<Message, 'from' | 'term'> & { term?: number };

/**
 * The Raft state machine of one node (Raft Figure 2). Pure: no I/O, no clocks, no randomness
 * but the injected source. Drive it with `tick` and `step`; collect its output with RawNode.
 *
 * The role's behaviour lives in swapped functions (`stepFn`, `tickFn`), set by `become*`.
 */
export class Raft {
  readonly cfg: ResolvedConfig;
  readonly id: NodeId;
  /** Latest term seen. Invariant: never decreases. */
  term = 0;
  /** Vote cast in `term`. Invariant: set at most once per term. */
  vote: NodeId | null = null;
  /** The leader of `term` as far as this node knows. */
  leader: NodeId | null = null;
  role: Role = 'follower';
  log: RaftLog;
  /** Leader only: replication state of every member (voters and learners), this node included. */
  progress = new Map<NodeId, Progress>();
  /**
   * The membership in force: the latest configuration entry in the log, committed or not
   * (thesis §4.1), else the snapshot's, else the bootstrap configuration (`RaftConfig.voters`).
   */
  conf: ConfState;
  /** Index of the entry that set `conf` (the snapshot's index; 0 for the bootstrap configuration). */
  confIndex = 0;
  /** The quorum of `conf`: both majorities while joint. */
  quorumCfg: JointConfig;
  /** Leader: the voter leadership is being handed to (thesis §3.10), or null. */
  leadTransferee: NodeId | null = null;
  /** Ticks since the transfer began; it is abandoned after an election timeout. */
  transferElapsed = 0;
  /**
   * Leader: TimeoutNow was sent in this term, so voters may elect the target without waiting
   * out their leader stickiness: this leader's lease is over for the rest of its term.
   */
  leaseRevoked = false;
  /** TimeoutNow was sent to `leadTransferee`. */
  transferSent = false;
  /** Candidates: votes received in this election. */
  votes = new Map<NodeId, boolean>();
  /** Ticks since the last election timeout reset (followers) or quorum check (leaders). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  /** Invariant: electionTicks <= randomizedElectionTimeout < 2 * electionTicks. */
  randomizedElectionTimeout = 0;
  readOnly = new ReadOnly();
  /** Follower: its own reads forwarded to the leader, in batches. */
  readonly forwarded = new ForwardedReads(() => (this.incarnation ??= `${this.id}~${Math.floor(this.cfg.random() * 2 ** 32).toString(36)}`));
  private incarnation: string | undefined;
  lease = new LeaderLease();
  /**
   * Set at a restart (with a term) until an election timeout passes: a restarted node may have acknowledged a
   * leader's lease before it crashed, so it must not help elect another leader too soon.
   */
  bootGuard = false;
  /** Follower: the last successful appendResponse it sent (see handleAppend's commit notices). */
  lastAck: { readonly to: NodeId; readonly term: number; readonly index: number } | null = null;
  /** Output waiting for the next Ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** Leader: new entries to send; `withCommit`: also tell followers a new commit index. */
  pendingAppend = { entries: false, withCommit: false };

  stepFn: (r: Raft, m: Message) => void = stepFollower;
  tickFn: (r: Raft) => void = tickElection;

  constructor(
    config: RaftConfig,
    restored?: { hardState: HardState; entries: readonly Entry[]; snapshot: SnapshotMeta | null; compacted?: { index: number; term: number } },
  ) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    const hs = restored?.hardState;
    this.log = RaftLog.restore(restored?.entries ?? [], restored?.snapshot ?? null, hs?.commit ?? 0, restored?.compacted);
    this.conf = bootstrapState(this.cfg);
    this.quorumCfg = quorumOf(this.conf.config);
    refreshConf(this);
    if (hs) {
      this.term = hs.term;
      this.vote = hs.vote;
      this.bootGuard = hs.term > 0;
    }
    this.becomeFollower(this.term, null);
  }

  /** Whether `id` votes in the current configuration (either half while joint). */
  isVoter(id: NodeId): boolean {
    return this.quorumCfg.incoming.has(id) || this.quorumCfg.outgoing.has(id);
  }

  /**
   * Whether this node may stand for election: it votes in its latest configuration, or that
   * configuration (which removed it) is not committed yet and it voted in the committed one.
   * Thesis §4.2.2: such a server may still be needed to elect the leader that commits its
   * removal (in {a,b}, a removed a holding the only copy of the change); it does not count
   * its own vote then.
   */
  mayCampaign(): boolean {
    if (this.isVoter(this.id)) return true;
    if (this.confIndex <= this.log.committed) return false;
    const prev = this.log.confAt(this.log.committed)?.state.config ?? { voters: this.cfg.voters, votersOutgoing: [] as readonly NodeId[] };
    return prev.voters.includes(this.id) || prev.votersOutgoing.includes(this.id);
  }

  /** Whether this node's own vote is a quorum (a single-voter cluster). */
  selfIsQuorum(): boolean {
    return this.quorumCfg.isQuorum(new Set([this.id]));
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  send(m: Outgoing): void {
    this.msgs.push({ ...m, from: this.id, term: m.term ?? this.term } as Message);
  }

  tick(): void {
    this.forwarded.tick();
    this.tickFn(this);
    // A forward whose answer was lost must not hold the follower's reads forever.
    if (this.role === 'follower') forwardReads(this);
  }

  private reset(term: number): void {
    if (term !== this.term) {
      invariant(term > this.term, `term went back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTicks + Math.floor(this.cfg.random() * this.cfg.electionTicks);
    this.votes.clear();
    this.progress.clear();
    this.leadTransferee = null;
    this.transferElapsed = 0;
    this.leaseRevoked = false;
    this.transferSent = false;
    this.pendingAppend = { entries: false, withCommit: false };
    abortReads(this);
    this.lease = new LeaderLease();
  }

  becomeFollower(term: number, leader: NodeId | null): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
    this.stepFn = stepFollower;
    this.tickFn = tickElection;
  }

  /** Thesis §9.6: ask for votes for term+1 without incrementing our term. */
  becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'leader cannot become pre-candidate');
    this.reset(this.term);
    this.role = 'pre-candidate';
    this.stepFn = stepCandidate;
    this.tickFn = tickElection;
  }

  becomeCandidate(): void {
    invariant(this.role !== 'leader', 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.stepFn = stepCandidate;
    this.tickFn = tickElection;
  }

  becomeLeader(): void {
    invariant(this.role === 'candidate', `${this.role} cannot become leader`);
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    this.stepFn = stepLeader;
    this.tickFn = tickLeader;
    this.syncProgress();
    this.progress.get(this.id)?.maybeUpdate(this.log.stableIndex);
    // Raft §5.4.2, §8: an entry of the new term lets earlier entries commit. The first leader
    // of a new cluster writes the bootstrap configuration instead, so from then on every
    // node reads its membership from the log, not from its command line.
    if (this.confIndex === 0) this.appendEntries([{ type: EntryType.ConfChange, data: encodeConfEntry(this.conf) }]);
    else this.appendEntries([{ type: EntryType.Noop, data: new Uint8Array(0) }]);
  }

  /** Leader: one Progress per member of `conf`, new members probed from the end of the log. */
  syncProgress(): void {
    const members = new Set(allMembers(this.conf.config));
    members.add(this.id); // a leader being removed still leads (uncounted) until the change commits
    for (const id of this.progress.keys()) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      if (this.progress.has(id)) continue;
      const pr = new Progress(this.log.lastIndex() + 1, this.cfg.maxInflight);
      pr.recentActive = true;
      if (id === this.id) pr.maybeUpdate(this.log.stableIndex);
      this.progress.set(id, pr);
    }
    if (this.leadTransferee !== null && !this.isVoter(this.leadTransferee)) this.leadTransferee = null;
  }

  /** Starts an election: a pre-vote round first when enabled (thesis §9.6). */
  campaign(preVote: boolean, transferFrom?: NodeId): void {
    // Learners, removed nodes and nodes that have not joined yet never stand (thesis §4.2.2).
    if (!this.mayCampaign()) return;
    if (preVote) this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = preVote ? this.term + 1 : this.term;
    this.votes.set(this.id, true);
    if (this.pollResult() !== 'pending') return;
    for (const to of this.quorumCfg.ids()) {
      if (to === this.id) continue;
      this.send({
        type: 'vote',
        to,
        term: voteTerm,
        preVote,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        ...(transferFrom !== undefined ? { transferFrom } : {}),
      });
    }
  }

  /** Counts votes; on a decision moves to the next role. */
  pollResult(): 'won' | 'lost' | 'pending' {
    // Thesis §4.3: while joint, a majority of the old AND of the new voters.
    const result = this.quorumCfg.voteResult(this.votes);
    if (result === 'won') {
      if (this.role === 'pre-candidate') this.campaign(false);
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, null);
    }
    return result;
  }

  /** Leader: appends proposals to its log; they are sent with the next Ready. */
  appendEntries(items: readonly { type: EntryType; data: Uint8Array }[]): number {
    const first = this.log.lastIndex() + 1;
    this.log.append(items.map((it, i) => ({ index: first + i, term: this.term, type: it.type, data: it.data })));
    this.pendingAppend.entries = true;
    if (items.some((it) => it.type === EntryType.ConfChange)) refreshConf(this);
    if (this.cfg.testingBugs.countSelfBeforeDurable === true && this.cfg.asyncStorageWrites) {
      if (this.progress.get(this.id)?.maybeUpdate(this.log.lastIndex()) && maybeCommit(this)) this.pendingAppend.withCommit = true;
    }
    return first;
  }

  propose(datas: readonly Uint8Array[]): number {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (this.leadTransferee !== null) throw transferInProgress(this.leadTransferee);
    return this.appendEntries(datas.map((data) => ({ type: EntryType.Normal, data })));
  }

  /** Sends what the leader owes its followers; called when a Ready is built. */
  flushAppends(): void {
    const { entries, withCommit } = this.pendingAppend;
    // Cleared whatever the role: a leader that commits its own removal steps down inside
    // maybeCommit, after which its caller still flags the commit; left set, hasReady() would
    // stay true with nothing to do (RaftNode's drive loop spun on it).
    this.pendingAppend = { entries: false, withCommit: false };
    if (this.role !== 'leader') return;
    if (entries || withCommit) bcastAppend(this, withCommit);
  }

  /** The leader's own entries became durable: count them toward commitment. */
  selfStable(): void {
    if (this.role !== 'leader') return;
    if (this.progress.get(this.id)!.maybeUpdate(this.log.stableIndex) && maybeCommit(this)) {
      this.pendingAppend.withCommit = true;
    }
  }

  step(m: Message): void {
    // Messages from non-members are heard too: a new member learns of the configuration that
    // includes it only from the leader that sends it (thesis §4.2.1).
    if (m.to !== this.id || m.from === this.id) return;
    // A forged or corrupt term would push this node to a term it can never campaign past.
    if (!Number.isSafeInteger(m.term) || m.term < 0 || m.term > MAX_TERM) return;
    if (m.term > this.term) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.answerStaleTerm(m);
      return;
    }
    if (m.type === 'vote') this.handleVote(m);
    else this.stepFn(this, m);
  }

  /** A message from a higher term. Returns false if it must be ignored. */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === 'vote') {
      // Thesis §4.2.3: while a leader is heard from, a disruptive candidate is ignored.
      const inLease =
        this.cfg.checkQuorum && (this.leader !== null || this.bootGuard) && this.electionElapsed < this.cfg.electionTicks;
      // Thesis §3.10: the leader we follow handed over to this candidate and gave up its lease.
      const handedOver = m.transferFrom !== undefined && m.transferFrom === this.leader && m.term === this.term + 1;
      if (inLease && !handedOver) return false;
      if (m.preVote) return true; // a pre-vote never changes our term
    }
    if (m.type === 'voteResponse' && m.preVote && m.granted) return true;
    const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
    this.becomeFollower(m.term, fromLeader ? m.from : null);
    return true;
  }

  private answerStaleTerm(m: Message): void {
    if ((m.type === 'append' || m.type === 'heartbeat') && (this.cfg.checkQuorum || this.cfg.preVote)) {
      // A deposed leader that cannot hear of our term any other way (it ignores votes
      // under check-quorum); this response makes it step down.
      this.send({ type: 'appendResponse', to: m.from, success: false, index: 0, conflictTerm: 0, conflictIndex: 0 });
    } else if (m.type === 'vote' && m.preVote) {
      this.send({ type: 'voteResponse', to: m.from, preVote: true, granted: false });
    }
  }

  /** Raft §5.2, §5.4.1: one vote per term, only for a candidate at least as up-to-date. */
  private handleVote(m: Extract<Message, { type: 'vote' }>): void {
    const canVote =
      this.cfg.testingBugs.doubleVote === true ||
      this.vote === m.from || (this.vote === null && this.leader === null) || (m.preVote && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      this.send({ type: 'voteResponse', to: m.from, term: m.term, preVote: m.preVote, granted: true });
      if (!m.preVote) {
        this.vote = m.from;
        this.electionElapsed = 0;
      }
    } else {
      this.send({ type: 'voteResponse', to: m.from, preVote: m.preVote, granted: false });
    }
  }
}

export function transferInProgress(to: NodeId): RaftError {
  return new RaftError(
    ErrorCode.TransferInProgress,
    `leadership is being transferred to ${to}: proposals are refused until it finishes or aborts; retry shortly`,
  );
}

/** The configuration of a cluster before its log holds one: `RaftConfig.voters` and their addresses. */
export function bootstrapState(cfg: ResolvedConfig): ConfState {
  if (cfg.voters.length === 0) return { config: emptyConfig, addresses: {} };
  const config = bootstrapConfig(cfg.voters);
  return { config, addresses: pruneAddresses(config, cfg.bootstrapAddresses) };
}
