import { seededRandom, type TestingBugs } from '../consensus/config.js';
import { RawNode, hasWrite, type Ready } from '../consensus/rawNode.js';
import type { MembershipConfig } from '../consensus/membership/config.js';
import { decodeConfEntry } from '../consensus/membership/entry.js';
import { EntryType, type Entry, type Message, type NodeId, type SnapshotMeta } from '../consensus/types.js';
import { isRaftError } from '../errors.js';
import { bytes, compactStore, crashStore, newStore, persist, type DurableStore } from './durableStore.js';
import { drawProfile, type FaultProfile, type ProfileName } from './faultProfile.js';
import { MembershipNemesis, type MembershipStats, badTransition } from './membershipNemesis.js';
import { SafetyLedger, keyOf } from './safetyLedger.js';
import { SimDisk } from './simDisk.js';
import { SnapshotShelf } from './simSnapshots.js';
import { SimNetwork } from './simNetwork.js';
import { StabilityMonitor, type ClusterView } from './stability.js';

/** Two election timeouts (see StabilityMonitor). */
const STABILITY_WARMUP = 20;

export interface SimOptions {
  seed: number;
  nodes: number;
  faultSteps: number;
  /** Steps allowed, after faults stop, for a leader to emerge and all proposals to commit. */
  quietSteps: number;
  /** TEST ONLY: plant a known bug, to show the simulation catches it. */
  bugs?: TestingBugs;
  /** TEST ONLY: turn off pre-vote or check-quorum, to show the stability check catches it. */
  raft?: { preVote?: boolean; checkQuorum?: boolean };
  /** Forces one fault schedule (see faultProfile.ts); by default the seed draws one. */
  profile?: ProfileName;
  /**
   * Pipelined writes (RaftConfig.asyncStorageWrites): several Readies' writes in flight per
   * node, a leader replicating before its own write is durable. Default: odd seeds.
   */
  asyncWrites?: boolean;
}

export interface SimResult {
  seed: number;
  /** The fault schedule this seed ran (see faultProfile.ts). */
  profile: ProfileName;
  /** Whether nodes pipelined their writes (asyncStorageWrites). */
  asyncWrites: boolean;
  elections: number;
  committed: number;
  crashes: number;
  snapshots: number;
  /** Unsynced writes a crash lost. */
  lostWrites: number;
  /** Messages a leader sent before its own pending write was durable (async writes only). */
  earlySends: number;
  /** Minority nodes cut off (both ways or one way) and let back in. */
  rejoins: number;
  /** Healthy-leader windows, and the steps in them in which stability was checked. */
  stableWindows: number;
  stableSteps: number;
  /** Membership churn (all zero when the profile has none). */
  membership: MembershipStats;
}

/** A safety or liveness property failed; message names the seed, step and property. */
export class SimViolation extends Error {}

interface SimNode {
  id: NodeId;
  raw: RawNode | null; // null while crashed
  store: DurableStore;
  /** Its disk: the writes in flight (see SimDisk). */
  disk: SimDisk;
  restartAt: number;
  /** The replicated state: a hash of every applied entry, and the last applied configuration. */
  sm: { index: number; hash: number; conf: MembershipConfig | null };
  role: string;
  /** One of the cluster's first nodes (bootstrapped from their list), or a node that joined. */
  bootstrap: boolean;
}

const fnv = (h: number, s: string): number => {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
};

/**
 * A seeded, deterministic simulation of a cluster of pure cores with a faulty network
 * (drops, duplicates, delays that reorder, partitions), crashes that keep only durable state,
 * slow disks and log compaction. Checks Raft's safety properties after every step, then
 * liveness once faults stop.
 */
export class Simulation {
  private readonly rand: () => number;
  /** Every node ever created; nodes that join later are appended (the network sees them). */
  private readonly ids: NodeId[];
  private readonly initialIds: readonly NodeId[];
  private readonly nemesis: MembershipNemesis | null;
  private readonly nodes = new Map<NodeId, SimNode>();
  private net: { m: Message; at: number }[] = [];
  private readonly links: SimNetwork;
  private now = 0;
  private faults = true;
  private proposals = 0;
  // Safety bookkeeping, global across nodes.
  /** Each Ready's entries' predecessor terms, taken when it was handed out (see `complete`). */
  private readonly prevTerms = new WeakMap<Ready, number[]>();
  private readonly ledger = new SafetyLedger((property, detail) => this.fail(property, detail));
  private readonly shelf = new SnapshotShelf();
  readonly stats = { elections: 0, crashes: 0, snapshots: 0, lostWrites: 0, earlySends: 0 };
  /** Fault rates, drawn per seed so runs differ in character, not only in detail. */
  readonly profile: FaultProfile;
  private readonly stability = new StabilityMonitor(STABILITY_WARMUP);
  private readonly asyncWrites: boolean;
  /** Leader churn: new leaders crash a few steps in, before their term settles (Figure 8). */
  private churn: { id: NodeId; at: number } | null = null;

  constructor(readonly opts: SimOptions) {
    this.rand = seededRandom(opts.seed);
    this.asyncWrites = opts.asyncWrites ?? opts.seed % 2 === 1;
    this.ids = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
    this.initialIds = [...this.ids];
    this.links = new SimNetwork(this.ids, this.rand);
    this.profile = drawProfile(this.rand, opts.profile);
    for (const id of this.ids) this.addNode(id, true);
    this.nemesis =
      this.profile.membership > 0
        ? new MembershipNemesis({ rand: this.rand, leader: () => this.anyLeader()?.raw ?? null, spawn: () => this.spawn() }, opts.nodes + 2, 6)
        : null;
  }

  private addNode(id: NodeId, bootstrap: boolean): void {
    const n = { id, raw: null, store: newStore(), restartAt: 0, sm: { index: 0, hash: 0, conf: null }, role: 'follower', bootstrap } as unknown as SimNode;
    n.disk = this.newDisk(n);
    this.nodes.set(id, n);
    this.boot(n);
  }

  /** A brand-new, empty node that joins: it knows no voters until a leader adds it. */
  private spawn(): NodeId {
    const id = `n${this.ids.length + 1}`;
    this.ids.push(id);
    this.addNode(id, false);
    return id;
  }

  private anyLeader(): SimNode | undefined {
    const leaders = [...this.nodes.values()].filter((n) => n.raw?.status().role === 'leader');
    return leaders.length === 0 ? undefined : this.pick(leaders);
  }

  private fail(property: string, detail: string): never {
    throw new SimViolation(`seed ${this.opts.seed} step ${this.now}: ${property} violated: ${detail}`);
  }

  private chance(p: number): boolean {
    return this.rand() < p;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  private boot(n: SimNode): void {
    const s = n.store;
    n.raw = new RawNode(
      { id: n.id, voters: n.bootstrap ? this.initialIds : [], electionTicks: 10, heartbeatTicks: 2, maxInflight: 8, maxBytesPerMessage: this.profile.smallMessages ? 1 : 1 << 20, testingBugs: this.opts.bugs ?? {}, asyncStorageWrites: this.asyncWrites, ...this.opts.raft, random: seededRandom(Math.floor(this.rand() * 2 ** 31)) },
      { hardState: s.hardState, entries: [...s.entries], snapshot: s.snapshot, compacted: s.compacted },
    );
    n.sm = s.snapshot ? (this.shelf.get(s.snapshot) as SimNode['sm']) : { index: 0, hash: 0, conf: null };
    n.disk = this.newDisk(n);
    n.role = 'follower';
  }

  run(): SimResult {
    for (; this.now < this.opts.faultSteps; this.now++) this.step();
    this.faults = false;
    this.links.healAll();
    for (const n of this.nodes.values()) if (!n.raw) this.boot(n);
    this.checkLiveness();
    const { windows, checkedSteps } = this.stability.stats;
    const membership = this.nemesis?.stats ?? { changes: 0, joint: 0, transfers: 0, refused: 0, spawned: 0 };
    return { seed: this.opts.seed, profile: this.profile.name, asyncWrites: this.asyncWrites, committed: this.ledger.hashAt.size, ...this.stats, rejoins: this.links.rejoins, stableWindows: windows, stableSteps: checkedSteps, membership };
  }

  private step(): void {
    if (this.faults) this.injectFaults();
    for (const n of this.nodes.values()) {
      if (!n.raw && this.now >= n.restartAt) this.boot(n);
      if (n.raw) n.raw.tick();
    }
    this.deliverDue();
    if (this.chance(0.3)) this.proposeSomewhere();
    for (const n of this.nodes.values()) this.process(n);
    this.checkStability();
  }

  private injectFaults(): void {
    if (this.churn && this.now >= this.churn.at) {
      this.crash(this.nodes.get(this.churn.id)!.raw ? this.nodes.get(this.churn.id) : undefined);
      this.churn = null;
    }
    if (this.chance(this.profile.crash)) this.crash(this.pick([...this.nodes.values()].filter((n) => n.raw)));
    if (this.chance(this.profile.crashMidWrite)) this.crash(this.pick([...this.nodes.values()].filter((n) => n.disk.writes.length > 0)));
    if (this.chance(this.profile.partition)) this.links.repartition();
    this.links.rejoinDue(this.now);
    if (!this.links.isolating && this.chance(this.profile.isolate)) this.isolateMinority();
    if (this.chance(0.01)) this.compact(this.pick([...this.nodes.values()]));
    if (this.nemesis && this.chance(this.profile.membership)) this.nemesis.act();
  }

  private crash(n: SimNode | undefined): void {
    if (!n) return;
    n.raw = null;
    // Of the writes in flight, a prefix may have reached the disk; their messages never left.
    n.disk.crash(Math.floor(this.rand() * (n.disk.writes.length + 1)));
    this.stats.lostWrites += crashStore(n.store, this.rand); // and unsynced ones may not have
    n.restartAt = this.now + 5 + Math.floor(this.rand() * this.profile.downSteps);
    this.stats.crashes++;
  }

  /**
   * Cuts a minority of followers off from everyone else, both ways or one way only, and lets
   * it back in later: the rejoin must not disturb a healthy leader (pre-vote, check-quorum).
   */
  private isolateMinority(): void {
    const followers = this.ids.filter((id) => this.nodes.get(id)!.raw?.status().role !== 'leader');
    const size = 1 + Math.floor(this.rand() * Math.floor((this.ids.length - 1) / 2));
    const away = [...followers].sort(() => this.rand() - 0.5).slice(0, size);
    this.links.cutOff(away, this.rand(), this.now + 20 + Math.floor(this.rand() * 150));
  }

  private checkStability(): void {
    // Churn deposes healthy leaders on purpose (transfers, a removed leader stepping down).
    if (this.nemesis) return;
    const view: ClusterView = {
      ids: this.ids,
      now: this.now,
      role: (id) => this.nodes.get(id)!.raw?.status().role ?? null,
      term: (id) => this.nodes.get(id)!.raw?.status().term ?? this.nodes.get(id)!.store.hardState.term,
      linkHealthy: (a, b) => this.links.healthy(a, b, this.now, STABILITY_WARMUP),
    };
    const broken = this.stability.check(view);
    if (broken) this.fail('stability', broken);
  }

  /** Takes a snapshot at the applied index, then compacts all but a trailing 0-4 entries of the log. */
  private compact(n: SimNode): void {
    if (!n.raw || n.disk.writes.length > 0) return;
    const st = n.raw.status();
    if (n.sm.index <= st.snapshotIndex || n.sm.index !== st.appliedIndex) return;
    const membership = n.raw.confStateAt(n.sm.index);
    const voters = [...membership.config.voters, ...membership.config.votersOutgoing.filter((v) => !membership.config.voters.includes(v))];
    const meta: SnapshotMeta = { index: n.sm.index, term: n.raw.term(n.sm.index), voters, membership };
    const conflict = this.shelf.put(meta, n.sm);
    if (conflict) this.fail('state machine safety', `${n.id}: ${conflict}`);
    persist(n.store, meta, [], null);
    n.raw.snapshotTaken(meta);
    const to = Math.max(n.raw.snapshotState().compacted, meta.index - Math.floor(this.rand() * 5));
    compactStore(n.store, to);
    n.raw.compact(to);
    this.stats.snapshots++;
  }

  private proposeSomewhere(): void {
    const leaders = [...this.nodes.values()].filter((n) => n.raw?.status().role === 'leader');
    if (leaders.length === 0) return;
    const n = this.pick(leaders);
    const count = 1 + Math.floor(this.rand() * 3);
    try {
      n.raw!.propose(Array.from({ length: count }, () => bytes(`cmd${++this.proposals}`)));
    } catch (err) {
      if (!isRaftError(err, 'RAFT_TRANSFER_IN_PROGRESS')) throw err; // a client would retry
    }
  }

  private send(m: Message): void {
    if (!this.links.allows(m.from, m.to)) return;
    if (this.faults && this.chance(this.profile.drop)) {
      this.links.dropped(m.from, m.to, this.now);
      return;
    }
    const delay = () => (this.faults ? Math.floor(this.rand() * 4) : Math.floor(this.rand() * 2));
    this.net.push({ m, at: this.now + delay() });
    if (this.faults && this.chance(0.02)) this.net.push({ m, at: this.now + delay() });
  }

  private deliverDue(): void {
    const due = this.net.filter((x) => x.at <= this.now);
    this.net = this.net.filter((x) => x.at > this.now);
    for (const { m } of due) {
      const to = this.nodes.get(m.to)!;
      if (!to.raw || !this.links.allows(m.from, m.to)) continue;
      to.raw.step(m);
    }
  }

  /** Carries out Readies under the ordering rule, possibly through a slow disk. */
  private process(n: SimNode): void {
    for (let guard = 0; guard < 100 && n.raw; guard++) {
      if (n.disk.completeDue(n.raw, this.now)) continue;
      if (!n.disk.mayTakeReady() || !n.raw.hasReady()) return;
      const ready = n.raw.ready();
      this.observe(n, ready);
      // The planted bug sends before the disk write, which a crash may then lose.
      if (this.opts.bugs?.sendBeforePersist) for (const m of ready.messages) this.send(m);
      for (const m of ready.messagesBeforePersist) this.send(m);
      if (hasWrite(ready) || n.disk.writes.length > 0) this.stats.earlySends += ready.messagesBeforePersist.length;
      const slow = this.faults && (ready.entries.length > 0 || ready.hardState) && this.chance(this.profile.slowDisk);
      n.disk.handle(n.raw, ready, slow ? this.now + 1 + Math.floor(this.rand() * 3) : this.now, this.now);
    }
  }

  /** Puts a Ready's persistence part on the node's disk. */
  private write(n: SimNode, ready: Ready): void {
    // An unsynced write may be lost in a crash: only a commit index, which a restarted node
    // learns again from the leader, may be written so (LogWrite.sync).
    const termOrVote = ready.hardState !== null && (ready.hardState.term !== n.store.hardState.term || ready.hardState.vote !== n.store.hardState.vote);
    if (!ready.mustSync && (ready.entries.length > 0 || ready.snapshot || termOrVote)) this.fail('durability', `${n.id} left a write unsynced that is more than a commit index`);
    persist(n.store, ready.snapshot, ready.entries, ready.hardState, ready.mustSync);
    // Log matching is judged on what was written: a single voter elects itself within one
    // Ready, so a crash before that write may let it win the same term again, and the entries
    // it had appended then (never durable, never sent) are rightly forgotten.
    this.ledger.appended(n.id, ready.entries, this.prevTerms.get(ready) ?? []);
  }

  private newDisk(n: SimNode): SimDisk {
    return new SimDisk(this.asyncWrites, {
      write: (ready) => this.write(n, ready),
      send: (m) => this.send(m),
      apply: (e) => this.apply(n, e),
      restore: (snapshot) => void (n.sm = this.shelf.get(snapshot) as SimNode['sm']),
      sentEarly: this.opts.bugs?.sendBeforePersist === true,
    });
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.sm.index + 1) this.fail('apply order', `${n.id} applied ${e.index} after ${n.sm.index}`);
    n.sm = { index: e.index, hash: fnv(n.sm.hash, keyOf(e)), conf: n.sm.conf };
    if (e.type === EntryType.ConfChange) this.applyConf(n, decodeConfEntry(e.data).config);
    this.ledger.applied(n.id, e.index, n.sm.hash);
  }

  /** Committed configurations change one voter at a time, or go through a joint one (§4.2, §4.3). */
  private applyConf(n: SimNode, cfg: MembershipConfig): void {
    const bad = n.sm.conf ? badTransition(n.sm.conf, cfg) : null;
    if (bad) this.fail('membership change safety', `${n.id} at index ${n.sm.index}: ${bad}`);
    n.sm.conf = cfg;
  }

  /** Checks everything a Ready reveals: leaders, new entries, commit index. */
  private observe(n: SimNode, ready: Ready): void {
    const raw = n.raw!;
    const { role, term } = ready.softState;
    if (role === 'leader' && n.role !== 'leader') this.newLeader(n, term);
    this.prevTerms.set(ready, this.ledger.prevTerms(raw, ready.entries));
    n.role = role;
    if (ready.hardState) this.ledger.committed(n.id, raw, ready.hardState.commit, ready.hardState.term);
    // Figure 8: a leader dying right after it commits leaves only its followers to carry that on.
    const committed = ready.hardState !== null && ready.hardState.commit > n.store.hardState.commit;
    if (committed && role === 'leader' && this.faults && !this.churn && this.chance(this.profile.crashOnCommit)) this.churn = { id: n.id, at: this.now + 1 };
    // Pipelined writes: a leader that commits while a write of its own is still in flight dies
    // before the write lands, which is safe only if it did not count itself for that entry.
    if (committed && role === 'leader' && this.faults && !this.churn && n.disk.writes.length > 0 && this.profile.crashMidWrite > 0 && this.chance(0.5)) {
      this.churn = { id: n.id, at: this.now };
    }
  }

  private newLeader(n: SimNode, term: number): void {
    this.stats.elections++;
    if (this.faults && !this.churn && this.chance(this.profile.leaderChurn)) this.churn = { id: n.id, at: this.now + 1 + Math.floor(this.rand() * this.profile.churnSteps) };
    // Figure 8: a new leader cut off before its first message keeps its term's entries alone.
    if (this.faults && !this.links.isolating && this.chance(this.profile.isolateNewLeader)) this.links.cutOff([n.id], 0, this.now + 5 + Math.floor(this.rand() * 30));
    this.ledger.newLeader(n.id, n.raw!, term);
  }

  /**
   * After faults stop: a leader must emerge, and commands proposed to it must be applied by
   * every node. A leader change in the first steps of recovery can drop them, as it would a
   * client's request; they are then proposed again, as a client would retry.
   */
  private checkLiveness(): void {
    const deadline = this.now + this.opts.quietSteps;
    let proposal: { target: number; term: number } | null = null;
    for (; this.now < deadline; this.now++) {
      this.step2();
      const leader = this.soleLeader();
      if (!leader) continue;
      const term = leader.raw!.status().term;
      if (!proposal || (proposal.term < term && !this.committedIn(proposal))) {
        const cmds = Array.from({ length: 5 }, (_, i) => bytes(`final${i}@${term}`));
        if (leader.raw!.status().transferee !== null) continue; // a transfer under way refuses them
        proposal = { target: leader.raw!.propose(cmds).index + cmds.length - 1, term };
      }
      // Every member the leader knows must apply them; removed nodes need not.
      const members = this.membersOf(leader);
      const done = members.every((n) => n.sm.index >= proposal!.target);
      if (done && this.committedIn(proposal)) return this.checkConverged(proposal.target, members);
    }
    this.fail('liveness', proposal ? `final proposals not applied everywhere (target ${proposal.target})` : 'no leader after faults stopped');
  }

  private committedIn(p: { target: number; term: number }): boolean {
    return this.ledger.committedAt.get(p.target)?.key.startsWith(`${p.term}:`) ?? false;
  }

  /** A fault-free step. */
  private step2(): void {
    for (const n of this.nodes.values()) n.raw!.tick();
    this.deliverDue();
    for (const n of this.nodes.values()) this.process(n);
    this.checkStability();
  }

  private soleLeader(): SimNode | undefined {
    const leaders = [...this.nodes.values()].filter((n) => n.raw!.status().role === 'leader');
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  private membersOf(leader: SimNode): SimNode[] {
    const c = leader.raw!.membership().config;
    const ids = new Set([...c.voters, ...c.votersOutgoing, ...c.learners, ...c.learnersNext]);
    return [...this.nodes.values()].filter((n) => ids.has(n.id));
  }

  /** Every member reached `target` with the same state there (nodes past it applied more since). */
  private checkConverged(target: number, members: readonly SimNode[]): void {
    const want = this.ledger.hashAt.get(target);
    const off = members.filter((n) => n.sm.index < target || (n.sm.index === target && n.sm.hash !== want));
    if (want === undefined || off.length > 0) this.fail('convergence', `${off.map((n) => n.id).join(', ') || 'nobody'} differs after applying the final proposals`);
  }
}
