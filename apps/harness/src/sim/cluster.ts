import { EntryType, decodeConfEntry, isJoint, seededRandom, type Entry, type MembershipConfig, type SnapshotOptions, type TestingBugs } from '@raftkit/core';
import { StabilityMonitor } from '@raftkit/core/testing';
import { createKvReplica, type KvRaftReplica } from '@raftkit/kv';
import { MemoryLogStorage, MemoryLogStore } from '@raftkit/log-memory';
import { ManualScheduler, MemoryNetwork } from '@raftkit/transport-memory';
import { MembershipChecker } from './membershipSafety.js';
import { NodeClock } from './nodeClock.js';
import { SafetyChecker, Violation, type LogView } from './safety.js';
import { SimStorage } from './simStorage.js';

export interface ClusterOptions {
  seed: number;
  nodes: number;
  tickMs: number;
  bugs: TestingBugs;
  /** TEST ONLY: Raft options to override (pre-vote off, for the stability self-test). */
  raft?: { preVote?: boolean };
  /** Membership churn runs: stability is judged over the leader's voters, not every node. */
  membership?: boolean;
}

interface Member {
  readonly id: string;
  readonly store: MemoryLogStore;
  replica: KvRaftReplica | null;
  storage: SimStorage | null;
  clock: NodeClock | null;
  transport: { close(): Promise<void> } | null;
  lastApplied: number;
  /** Disk write delay range in virtual ms; [0, 0] is a fast disk. */
  disk: [number, number];
  lastCommit: number;
  lastRole: string;
  lastTerm: number;
  /** Stopped for good after its removal: never restarted, no longer one of `ids`. */
  retired: boolean;
}

const ELECTION_TICKS = 10;

/** The configuration a committed entry carries; one that does not decode is a finding. */
function confOf(node: string, index: number, e: Entry): MembershipConfig {
  try {
    return decodeConfEntry(e.data).config;
  } catch (err) {
    throw new Violation('valid configuration', `${node} applied a configuration entry at ${index} that does not decode: ${(err as Error).message}`);
  }
}

/** Lets every settled promise callback run (the runtime's work between timer events). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A cluster of real RaftNodes running the KV state machine on MemoryLogStorage, wired by the
 * memory transport, all in one virtual time. Crashes keep only what each disk made durable.
 * The safety checker watches every node after every step.
 */
export class SimCluster {
  readonly sched = new ManualScheduler({ maxCallbacks: 10_000_000 });
  readonly net: MemoryNetwork;
  readonly safety = new SafetyChecker();
  readonly membership = new MembershipChecker();
  /** The nodes of the cluster now, in creation order: the bootstrap voters, then nodes added since, minus retired ones. */
  readonly ids: string[];
  /** The bootstrap configuration (RaftConfig.voters of the first nodes; a joining node gets []). */
  readonly bootstrap: readonly string[];
  private nextId: number;
  /** Until this virtual ms no link counts as healthy for stability (a deliberate leader change). */
  private disturbedUntil = -Infinity;
  readonly rand: () => number;
  private readonly members = new Map<string, Member>();
  readonly stats = { crashes: 0, restarts: 0, lostWrites: 0, created: 0, retired: 0 };
  private readonly smallMessages: boolean;
  /** Drawn per seed: how often nodes snapshot, how much log they keep, how snapshots stream. */
  readonly snapshotPolicy: { every: number; snapshots: SnapshotOptions };
  /** Stability (see StabilityMonitor): a healthy leader keeps leading, no term rises above its. */
  readonly stability: StabilityMonitor;
  /** Virtual ms at which each link ("a>b") was last cut, lossy or touching a stalled disk. */
  private readonly lastBadLink = new Map<string, number>();

  constructor(readonly opts: ClusterOptions) {
    this.rand = seededRandom(opts.seed);
    this.net = new MemoryNetwork({ seed: opts.seed, scheduler: this.sched });
    this.ids = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
    this.bootstrap = [...this.ids];
    this.nextId = opts.nodes + 1;
    this.smallMessages = this.rand() < 0.5;
    // Aggressive on purpose: snapshots every few entries, tiny chunks, few in flight, a trailing
    // log of 0-20 entries, so lagging and restarted followers catch up through streamed snapshots
    // (lost, resent and resumed with the network's faults) as often as through the log.
    const draw = (lo: number, hi: number) => lo + Math.floor(this.rand() * (hi - lo + 1));
    this.snapshotPolicy = {
      every: draw(3, 60),
      snapshots: { trailingEntries: draw(0, 20), chunkBytes: draw(16, 512), maxChunksInFlight: draw(1, 4), chunkTimeoutMs: draw(50, 300) },
    };
    // Two election timeouts: a whole check-quorum round and a reset of every follower's timer.
    this.stability = new StabilityMonitor(2 * ELECTION_TICKS * opts.tickMs);
    for (const id of this.ids) this.addMember(id);
  }

  private addMember(id: string): void {
    this.members.set(id, { id, store: new MemoryLogStore(), replica: null, storage: null, clock: null, transport: null, lastApplied: 0, disk: [0, 0], lastCommit: 0, lastRole: 'follower', lastTerm: 0, retired: false });
  }

  /**
   * A brand-new machine: a new id, empty storage, started with `voters: []` (it never campaigns
   * until a leader adds it). The memory network routes by id, so nothing else needs telling.
   */
  async createNode(): Promise<string> {
    const id = `n${this.nextId++}`;
    this.addMember(id);
    this.ids.push(id);
    this.stats.created++;
    await this.boot(id);
    return id;
  }

  /** The machine of a removed node is switched off for good. */
  async retire(id: string): Promise<void> {
    const m = this.member(id);
    if (m.retired) return;
    if (m.replica) {
      await this.crash(id);
      this.stats.crashes--;
    }
    m.retired = true;
    this.ids.splice(this.ids.indexOf(id), 1);
    this.stats.retired++;
  }

  /** A deliberate leader change (transfer, removal) is under way: suspend the stability check. */
  disturb(ms: number): void {
    this.disturbedUntil = Math.max(this.disturbedUntil, this.sched.now() + ms);
  }

  now(): number {
    return this.sched.now();
  }

  async start(): Promise<void> {
    for (const id of this.ids) await this.boot(id);
  }

  /** Live replicas, for clients (a crashed node is simply not there). */
  replicas(): KvRaftReplica[] {
    return [...this.members.values()].flatMap((m) => (m.replica ? [m.replica] : []));
  }

  /** The shortest election timeout, in virtual ms. */
  electionMs(): number {
    return ELECTION_TICKS * this.opts.tickMs;
  }

  isUp(id: string): boolean {
    return this.member(id).replica !== null;
  }

  member(id: string): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no node ${id}`);
    return m;
  }

  leaders(): string[] {
    return this.replicas().filter((r) => r.node.status().role === 'leader').map((r) => r.node.id);
  }

  setDisk(id: string, range: [number, number]): void {
    this.member(id).disk = range;
  }

  async boot(id: string): Promise<void> {
    const m = this.member(id);
    const clock = new NodeClock(this.sched);
    const delay = () => m.disk[0] + Math.floor(this.rand() * (m.disk[1] - m.disk[0] + 1));
    const storage = new SimStorage(id, MemoryLogStorage.open(m.store), clock, delay, this.safety);
    const transport = this.net.transport(id);
    const replica = await createKvReplica({
      id,
      voters: this.bootstrap.includes(id) ? this.bootstrap : [],
      storage,
      transport,
      clock,
      tickMs: this.opts.tickMs,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 2,
      snapshotEvery: this.snapshotPolicy.every,
      snapshots: this.snapshotPolicy.snapshots,
      requestTimeoutMs: 1000,
      // Half the seeds send one entry per message, which opens the interleavings (Figure 8).
      maxBytesPerMessage: this.smallMessages ? 1 : 1 << 20,
      maxInflight: 8,
      random: seededRandom(Math.floor(this.rand() * 2 ** 31)),
      testingBugs: this.opts.bugs,
      ...this.opts.raft,
    });
    replica.node.on('stateChange', (s) => {
      if (s.role !== 'leader') return;
      this.safety.guard(() => this.safety.leaderElected(id, s.term, this.view(replica)));
      this.safety.guard(() => this.membership.leaderElected(id, s.term, replica.node.membership()));
    });
    // A node stopping on a broken invariant is a finding, not noise.
    replica.node.on('error', (err) => {
      const property = err.code === 'RAFT_INVARIANT_VIOLATED' ? 'raft invariant' : `node failure (${err.code})`;
      this.safety.violation ??= new Violation(property, `${id}: ${err.message}`);
    });
    m.lastApplied = replica.node.status().appliedIndex;
    this.membership.restart(id);
    replica.node.on('applied', (index) => this.checkApplied(m, replica, index));
    m.replica = replica;
    m.storage = storage;
    m.clock = clock;
    m.transport = transport;
    m.lastCommit = replica.node.status().commitIndex;
    await replica.node.start();
  }

  /** The process dies: no timer fires again, unsynced writes are lost, the network forgets it. */
  async crash(id: string): Promise<void> {
    const m = this.member(id);
    if (!m.replica) return;
    m.clock!.kill();
    // An unsynced write (a commit index) reached the disk before the crash, or did not.
    const disk = m.storage!;
    if (disk.crash(disk.hasUnsynced() ? this.rand() < 0.5 : true)) this.stats.lostWrites++;
    const { replica, transport } = m;
    m.replica = null;
    m.storage = null;
    m.clock = null;
    m.transport = null;
    this.stats.crashes++;
    // The node object is abandoned, as a killed process: its timers are dead, its network
    // endpoint is gone, and its disk writes still pending never complete.
    await transport!.close();
    void replica.node.stop().catch(() => {});
    await settle();
  }

  /**
   * SIGSTOP: the process stops running (no timer, no disk completion, no message handled: its
   * links are cut both ways) while time goes on for everyone else. Returns the clock to resume.
   */
  pause(id: string): NodeClock | null {
    const m = this.member(id);
    if (!m.clock) return null;
    m.clock.pause();
    for (const x of this.ids) {
      if (x === id) continue;
      this.net.block(id, x);
      this.net.block(x, id);
    }
    return m.clock;
  }

  async restart(id: string): Promise<void> {
    if (this.isUp(id) || this.member(id).retired) return;
    this.stats.restarts++;
    await this.boot(id);
  }

  /** Advances virtual time by `ms`, letting all work due meanwhile run, then checks safety. */
  async advance(ms: number): Promise<void> {
    const end = this.sched.now() + ms;
    for (;;) {
      await settle();
      const next = this.sched.nextAt();
      if (next === undefined || next > end) break;
      this.sched.advanceTo(Math.max(next, this.sched.now()));
    }
    this.sched.advanceTo(end);
    await settle();
    this.checkCommits();
    this.checkMembership();
    this.checkStability();
    this.safety.throwIfViolated();
  }

  private checkStability(): void {
    const now = this.sched.now();
    // A disk that stalls for half an election timeout may legitimately cost a leader its term.
    const stalled = (id: string) => this.member(id).disk[1] >= (ELECTION_TICKS * this.opts.tickMs) / 2;
    const ids = this.opts.membership ? this.stabilityIds() : this.ids;
    for (const a of this.ids) for (const b of this.ids) {
      if (a !== b && (!this.net.canReach(a, b) || this.net.effectiveFaults(a, b).drop > 0 || stalled(a) || stalled(b) || now < this.disturbedUntil)) this.lastBadLink.set(`${a}>${b}`, now);
    }
    const broken = this.stability.check({
      ids,
      now,
      // During a deliberate leader change no leader counts as healthy (a removed leader is not
      // one of the voters the majority is counted over, so it would look healthy alone).
      role: (id) => (now < this.disturbedUntil ? null : (this.member(id).replica?.node.status().role ?? null)),
      term: (id) => this.member(id).replica?.node.status().term ?? this.member(id).store.state().hardState.term,
      linkHealthy: (a, b) => (this.lastBadLink.get(`${a}>${b}`) ?? -Infinity) < now - 2 * ELECTION_TICKS * this.opts.tickMs,
    });
    if (broken) this.safety.violation ??= new Violation('stability', broken);
  }

  /**
   * With membership churn, a healthy majority is one of the leader's voters (and only they may
   * not raise their terms): a removed node or a learner counts for nothing. While joint (two
   * majorities), or with no leader, every node counts and the change disturbs stability.
   */
  private stabilityIds(): string[] {
    const leader = this.replicas()
      .filter((r) => r.node.status().role === 'leader')
      .sort((a, b) => b.node.status().term - a.node.status().term)[0];
    if (!leader) return this.ids;
    const cfg = leader.node.membership().config;
    if (isJoint(cfg)) {
      this.disturb(1);
      return this.ids;
    }
    return cfg.voters.filter((id) => this.ids.includes(id));
  }

  /** Each live node's reported membership agrees with what was applied. */
  private checkMembership(): void {
    for (const m of this.members.values()) {
      if (m.replica) this.safety.guard(() => this.membership.reported(m.id, m.replica!.node.membership()));
    }
  }

  /** A view of a live replica's log for the checks. */
  view(r: KvRaftReplica): LogView {
    const inspect = r.node.inspect();
    return {
      snapshotIndex: r.node.status().snapshotIndex,
      entry: (i: number): Entry | undefined => {
        try {
          return inspect.entries(i, i + 1)[0];
        } catch {
          return undefined;
        }
      },
    };
  }

  private checkApplied(m: Member, r: KvRaftReplica, index: number): void {
    const view = this.view(r);
    // A snapshot installed past what was applied: the node's configurations start a new run.
    if (view.snapshotIndex > m.lastApplied) this.membership.restart(m.id);
    const from = Math.max(m.lastApplied, view.snapshotIndex);
    for (let i = from + 1; i <= index; i++) {
      const e = view.entry(i);
      if (!e) continue;
      this.safety.guard(() => this.safety.applied(m.id, i, e.data));
      if (e.type === EntryType.ConfChange) this.safety.guard(() => this.membership.applied(m.id, i, confOf(m.id, i, e)));
    }
    m.lastApplied = index;
  }

  private checkCommits(): void {
    for (const m of this.members.values()) {
      if (!m.replica) continue;
      const st = m.replica.node.status();
      if (st.commitIndex > m.lastCommit) {
        this.safety.committedUpTo(m.id, st.commitIndex, st.term, this.view(m.replica), m.lastCommit);
      }
      m.lastCommit = st.commitIndex;
    }
  }

  async stopAll(): Promise<void> {
    for (const m of this.members.values()) {
      m.clock?.kill();
      if (m.transport) await m.transport.close();
      if (m.replica) void m.replica.node.stop().catch(() => {});
      m.replica = null;
      m.transport = null;
    }
    await settle();
  }
}
