import { seededRandom } from '@raftkit/core';
import type { KvStateMachineOptions } from '../../../src/index.js';
import { HistoryRecorder, checkHistory, formatResult } from '@raftkit/lincheck';
import { TestCluster } from '../cluster.js';
import { snapshotHex } from '../machine.js';
import { AuditedMachine, newAudit } from './auditedMachine.js';
import { lostWrites } from './checks.js';
import { FaultInjector, type FaultStats } from './faults.js';
import { SIM_KEYS, SimClient } from './simClient.js';
import { simKvModel, type SimInput, type SimOutput } from './txnModel.js';
import { committedChanges } from './committedLog.js';
import { checkWatcher } from './watchCheck.js';
import { WatcherSet, type WatcherStats } from './watchers.js';
import { checkExpiries, ExpiryProposals, LeaseClient, type LeaseStats } from './leases.js';
import { SimValueFiles } from './diskValues.js';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Virtual ms of faults, then of a healed cluster, with clients running throughout. */
  readonly faultMs?: number;
  readonly healMs?: number;
}

export interface SimReport {
  readonly seed: number;
  readonly nodes: number;
  readonly clients: number;
  readonly ops: { ok: number; fail: number; unknown: number };
  /** Transactions acknowledged (`ok` ops above) and left unknown, checked by `simKvModel`. */
  readonly txns: { ok: number; unknown: number };
  /** Writes refused because their session had expired (the client then opened a new one). */
  readonly sessionsExpired: number;
  readonly healedWrites: number;
  readonly faults: FaultStats;
  readonly watch: WatcherStats;
  readonly leases: LeaseStats;
  readonly leaderChanges: number;
  readonly snapshotRestarts: number;
  /** Crashes that lost an unsynced write (a commit index). */
  readonly lostUnsynced: number;
  /** Whether the replicas kept every value in files (FileValueStore), and the bytes compaction moved. */
  readonly diskValues: { on: boolean; movedBytes: number; fallbacks: number };
  readonly lincheck: string;
  readonly virtualMs: number;
}

/** A property failed; the message names the seed so the run can be replayed. */
export class SimFailure extends Error {}

const STEP_MS = 20;

/**
 * One seeded run: a cluster of RaftNodes with kv state machines, 4-6 clients recording every
 * operation, a fault phase, a healed phase in which writes must succeed again, then checks:
 * no fatal node error, no divergence and no write run twice (audited on every apply), all
 * replicas converge to byte-identical snapshots, the history is linearizable, and no
 * acknowledged write is lost.
 */
export async function runSimulation(opts: SimOptions): Promise<SimReport> {
  const sim = new KvSimulation(opts);
  try {
    return await sim.run();
  } finally {
    await sim.cluster.stop();
    sim.valueFiles?.close();
  }
}

class KvSimulation {
  readonly cluster: TestCluster;
  private readonly rand: () => number;
  private readonly audit = newAudit();
  private readonly rec = new HistoryRecorder<SimInput, SimOutput>();
  private readonly faults: FaultInjector;
  /** Every replica's (and the reference machine's) options. */
  private readonly machineOptions: KvStateMachineOptions;
  /** Draws for what was added later (watchers), so the older draws keep their schedules. */
  private readonly rand2: () => number;
  private watchers: WatcherSet | undefined;
  private leaseClients: LeaseClient[] = [];
  private readonly expiries: ExpiryProposals;
  private leaseStats: LeaseStats = { granted: 0, keepAlives: 0, leasedPuts: 0, revokedByClients: 0, expired: 0, expiredAfterKeepAlive: 0 };
  private clients: SimClient[] = [];
  private stopping = false;
  /** Half the runs keep the replicas' values in files (the reference machine keeps them in memory). */
  readonly valueFiles: SimValueFiles | undefined;

  constructor(private readonly opts: SimOptions) {
    this.rand = seededRandom(opts.seed);
    this.rand2 = seededRandom(opts.seed * 31 + 7);
    // Its own draw, so the other draws keep their schedules.
    this.valueFiles = seededRandom(opts.seed * 97 + 13)() < 0.5 ? new SimValueFiles() : undefined;
    // Half the runs use TTLs short enough that sessions of clients stuck behind a fault expire.
    const sessionTtlMs = this.rand() < 0.5 ? 300 + Math.floor(this.rand() * 1_500) : undefined;
    // A third keep a short log below snapshots, so lagging followers install them while watched.
    const snapshotTrailing = this.rand2() < 0.33 ? Math.floor(this.rand2() * 20) : undefined;
    this.cluster = new TestCluster({
      size: opts.nodes,
      seed: opts.seed,
      snapshotEvery: 20 + Math.floor(this.rand() * 60),
      ...(snapshotTrailing !== undefined && { snapshotTrailing }),
      requestTimeoutMs: 2_000,
      slowDiskMs: 1 + Math.floor(this.rand() * 4),
      faults: { delay: { min: 1, max: 3 } },
      machine: () => new AuditedMachine(this.audit, { ...this.machineOptions, ...(this.valueFiles && { values: this.valueFiles.open() }) }),
    });
    // A third of the runs keep a short watch history, so resuming watchers meet KV_COMPACTED.
    const watchHistory = this.rand2() < 0.33 ? 20 + Math.floor(this.rand2() * 150) : undefined;
    this.machineOptions = { ...(sessionTtlMs && { sessionTtlMs }), ...(watchHistory && { watchHistory }) };
    this.expiries = new ExpiryProposals(this.cluster.clock);
    this.faults = new FaultInjector(this.cluster, this.rand, (r) => this.expiries.watch(r));
  }

  async run(): Promise<SimReport> {
    await this.cluster.start();
    for (const r of this.cluster.up()) this.expiries.watch(r);
    const loops = [...this.startClients(), ...this.startLeaseClients()];
    this.watchers = new WatcherSet(this.cluster, Math.floor(this.rand2() * 2 ** 31), this.opts.faultMs ?? 5_000);
    await this.faultPhase();
    const healedWrites = await this.healPhase();
    this.stopping = true;
    await this.cluster.clock.until(() => [...this.clients, ...this.leaseClients].every((c) => c.finished), 30_000).catch(() => this.fail('clients did not finish'));
    await Promise.all(loops);
    const lincheck = await this.verify();
    return this.report(healedWrites, lincheck);
  }

  private startClients(): Promise<void>[] {
    const { cluster, rand } = this;
    this.clients = Array.from({ length: 4 + Math.floor(rand() * 3) }, (_, i) => {
      // Short, varied deadlines, so some calls give up mid-fault and their outcome is unknown.
      const timeoutMs = 200 + Math.floor(rand() * 1_300);
      const attemptTimeoutMs = 100 + Math.floor(rand() * 400);
      const kv = cluster.client(cluster.ids[i % cluster.ids.length], { timeoutMs, attemptTimeoutMs, retryDelayMs: 20 });
      return new SimClient(`c${i + 1}`, kv, this.rec, cluster.clock, Math.floor(rand() * 2 ** 31), i % 2 === 1);
    });
    return this.clients.map((c) => c.run(() => this.stopping));
  }

  /** 1-2 clients of leases, on their own KvClients. */
  private startLeaseClients(): Promise<void>[] {
    const { cluster, rand2 } = this;
    this.leaseClients = Array.from({ length: 1 + Math.floor(rand2() * 2) }, (_, i) => {
      const kv = cluster.client(cluster.ids[(i + 1) % cluster.ids.length], { timeoutMs: 300 + Math.floor(rand2() * 700), attemptTimeoutMs: 150, retryDelayMs: 20 });
      return new LeaseClient(`l${i + 1}`, kv, cluster.clock, Math.floor(rand2() * 2 ** 31));
    });
    return this.leaseClients.map((c) => c.run(() => this.stopping));
  }

  private async faultPhase(): Promise<void> {
    for (let t = 0; t < (this.opts.faultMs ?? 5_000); t += STEP_MS) {
      await this.cluster.clock.run(STEP_MS);
      await this.faults.step();
    }
  }

  /** Heals everything; writes must succeed again (liveness). Returns how many did. */
  private async healPhase(): Promise<number> {
    await this.faults.healAll();
    const before = this.okWrites();
    await this.cluster.clock.run(this.opts.healMs ?? 2_000);
    const healed = this.okWrites() - before;
    if (healed === 0) this.fail('no write succeeded after the faults stopped (liveness)');
    return healed;
  }

  private async verify(): Promise<string> {
    const { cluster } = this;
    // Their clients stopped: every lease expires on the leader's clock (liveness of expiry).
    await cluster.clock
      .until(() => cluster.leader()?.machine.leaseList().length === 0, 15_000)
      .catch(() => this.fail(`leases still held after their clients stopped: ${JSON.stringify(cluster.leader()?.machine.leaseList())}`));
    await converge(cluster).catch(() => this.fail('replicas did not converge after the faults stopped'));
    const finals = await this.finalReads();
    if (cluster.errors.length > 0) this.fail(`fatal node errors: ${cluster.errors.map((e) => `${e.id}: ${e.error.message}`).join('; ')}`);
    const states = new Set(await Promise.all(cluster.up().map((r) => snapshotHex(r.machine))));
    if (states.size !== 1) this.fail(`replicas applied the same log but hold ${states.size} different states`);
    const history = this.rec.history();
    const check = checkHistory(simKvModel, history, { maxSteps: 5_000_000 });
    if (check.result !== 'ok') this.fail(formatResult(check));
    const lost = lostWrites(history, finals);
    if (lost.length > 0) this.fail(`acknowledged writes lost: ${lost.join('; ')}`);
    if (this.audit.violations.length > 0) this.fail(`audit: ${this.audit.violations.slice(0, 3).join('; ')}`);
    await this.verifyAgainstLog();
    return formatResult(check);
  }

  /**
   * Against the committed log, replayed into a reference machine: no lease expired early
   * (leases.ts), and every watcher saw exactly the committed changes of its keys, once each,
   * in order, across reconnects. Waits first for each watcher to catch up with the log (they
   * still move off replicas that lag or end their watch).
   */
  private async verifyAgainstLog(): Promise<void> {
    const { revisions, results, problems } = committedChanges(this.audit, this.machineOptions);
    if (problems.length > 0) this.fail(`committed log replay: ${problems.slice(0, 3).join('; ')}`);
    for (const c of this.leaseClients) for (const k of ['granted', 'keepAlives', 'leasedPuts', 'revokedByClients'] as const) this.leaseStats[k] += c.stats[k];
    const early = checkExpiries(this.audit, results, this.expiries, this.leaseClients.flatMap((c) => c.leases), this.leaseStats);
    if (early.length > 0) this.fail(`lease expiry: ${early.slice(0, 3).join('; ')}`);
    const last = Math.max(0, ...this.audit.entries.keys());
    const set = this.watchers!;
    const lastOf = set.watchers.map((w) => {
      const mine = revisions.filter((r) => r.revision <= last && r.changes.some((c) => w.matches(c.key)));
      return mine.length === 0 ? 0 : mine[mine.length - 1]!.revision;
    });
    await this.cluster.clock.until(() => set.watchers.every((w, i) => w.through >= lastOf[i]!), 5_000).catch(() => {});
    set.stop();
    for (const w of set.watchers) {
      const problem = checkWatcher(w, revisions, last);
      if (problem) this.fail(problem);
    }
  }

  /** A last linearizable read of every key, recorded in the history too. */
  private async finalReads(): Promise<Map<string, string | null>> {
    const kv = this.cluster.client(this.cluster.leader()!.node.id);
    const finals = new Map<string, string | null>();
    for (const key of SIM_KEYS) {
      const h = this.rec.invoke('final', { op: 'get', key });
      const r = await this.cluster.clock.settleOf(kv.get(key));
      if (!r.ok) this.fail(`final read of ${key} failed: ${String(r.error)}`);
      const value = r.value.value as string | null;
      h.ok({ value });
      finals.set(key, value);
    }
    return finals;
  }

  private report(healedWrites: number, lincheck: string): SimReport {
    const history = this.rec.history();
    const count = (status: string): number => history.filter((o) => o.status === status).length;
    const txns = history.filter((o) => o.input.op === 'txn');
    return {
      seed: this.opts.seed,
      nodes: this.opts.nodes,
      clients: this.clients.length,
      ops: { ok: count('ok'), fail: count('fail'), unknown: count('unknown') },
      txns: { ok: txns.filter((o) => o.status === 'ok').length, unknown: txns.filter((o) => o.status === 'unknown').length },
      sessionsExpired: this.clients.reduce((n, c) => n + c.stats.expired, 0),
      healedWrites,
      faults: this.faults.stats,
      watch: this.watchers!.stats,
      leases: this.leaseStats,
      leaderChanges: this.cluster.leaderChanges,
      snapshotRestarts: this.cluster.snapshotBoots,
      lostUnsynced: this.cluster.lostUnsynced,
      diskValues: { on: this.valueFiles !== undefined, ...(this.valueFiles?.stats() ?? { movedBytes: 0, fallbacks: 0 }) },
      lincheck,
      virtualMs: this.cluster.clock.now(),
    };
  }

  private okWrites(): number {
    return this.clients.reduce((n, c) => n + c.stats.okWrites, 0);
  }

  private fail(what: string): never {
    throw new SimFailure(`seed ${this.opts.seed} (${this.opts.nodes} nodes): ${what}`);
  }
}

/** Waits until every node is up and has applied everything the leader committed. */
async function converge(cluster: TestCluster): Promise<void> {
  await cluster.clock.until(() => {
    const leader = cluster.leader();
    if (!leader || cluster.up().length !== cluster.ids.length) return false;
    const st = leader.node.status();
    return st.commitIndex === st.lastIndex && cluster.up().every((r) => r.node.status().appliedIndex === st.commitIndex);
  }, 20_000);
}
