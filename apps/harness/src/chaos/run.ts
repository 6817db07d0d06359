import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ChaosCluster, sleep, type FollowerMode } from './cluster.js';
import { guardChildren } from './exitGuard.js';
import { KvHttp } from './kvHttp.js';
import { LeaseProbe, type LeaseConsistency } from './leaseProbe.js';
import { LeaderWatch } from './leaderWatch.js';
import { Nemesis, planFaults } from './nemesis.js';
import { seededRandom } from './random.js';
import { renderReport, verdictText, type ReportInput } from './report/render.js';
import type { FaultKind } from './types.js';
import { judge, type Judgement } from './verdict.js';
import { FINAL_CLIENT, Workload, type ReadConsistency } from './workload.js';

export interface ChaosOptions {
  readonly nodes: number;
  readonly clients: number;
  /** Length of the fault phase. */
  readonly durationMs: number;
  readonly seed: number;
  readonly keys: number;
  /** Kinds of fault to draw from; each runs once first (in this order if `orderedFaults`). */
  readonly faults: readonly FaultKind[];
  readonly orderedFaults: boolean;
  readonly reportPath: string;
  readonly keepData: boolean;
  readonly serverCli: string;
  /** Deadline of one client operation, retries included. */
  readonly opTimeoutMs: number;
  readonly readConsistency: ReadConsistency;
  /** Of the reads `pause-leader-lease` sends to the paused leader; `stale` is a self-test (must fail). */
  readonly leaseConsistency: LeaseConsistency;
  readonly followerMode: FollowerMode;
  /** Search budget of the linearizability check. */
  readonly checkSteps: number;
  /** Progress lines (faults as they happen); the summary is the caller's to print. */
  readonly log: (line: string) => void;
}

export interface ChaosResult {
  readonly passed: boolean;
  readonly judgement: Judgement;
  readonly report: ReportInput;
  readonly reportPath: string;
  /** Where the servers' data and logs were; deleted unless keepData. */
  readonly dataDir: string;
  /** Every server pid the run started: all gone when it returns. */
  readonly pids: readonly number[];
  readonly summary: string;
}

/** The run could not get to a verdict (as opposed to a bug in the harness). */
export class ChaosAborted extends Error {
  override readonly name = 'ChaosAborted';
}

/** Clients keep going this long after healing, to show the cluster makes progress again. */
const RECOVERY_MS = 2000;
const TICK_MS = 20;
const ELECTION_TICKS = 10;
const SERVER_REQUEST_TIMEOUT_MS = 1000;

/**
 * One chaos run: a real cluster behind fault proxies, clients recording a history while the
 * nemesis works through its schedule, then heal, final reads, check and report. Every
 * process is killed and the data deleted however the run ends (unless keepData).
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const startedAt = new Date().toISOString();
  const dataDir = mkdtempSync(join(tmpdir(), 'raftkit-chaos-'));
  const removeData = () => (o.keepData ? undefined : rmSync(dataDir, { recursive: true, force: true }));
  let cluster: ChaosCluster | null = null;
  const release = guardChildren(() => cluster?.destroyNow(), removeData);
  try {
    cluster = await ChaosCluster.start({
      nodes: o.nodes, dataRoot: dataDir, serverCli: o.serverCli, tickMs: TICK_MS,
      electionTicks: ELECTION_TICKS, requestTimeoutMs: SERVER_REQUEST_TIMEOUT_MS, followerMode: o.followerMode, now,
    });
    const record = await exercise(cluster, o, now);
    await cluster.destroy();
    const report: ReportInput = { ...record, seed: o.seed, nodes: cluster.allIds, initialNodes: o.nodes, clients: o.clients, durationMs: o.durationMs, startedAt };
    const reportPath = resolve(o.reportPath);
    writeFileSync(reportPath, renderReport(report));
    const summary = summarize(report, reportPath, now());
    return { passed: report.judgement.passed, judgement: report.judgement, report, reportPath, dataDir, pids: cluster.pids(), summary };
  } finally {
    await cluster?.destroy();
    release();
    removeData();
  }
}

type RunRecord = Omit<ReportInput, 'seed' | 'nodes' | 'initialNodes' | 'clients' | 'durationMs' | 'startedAt'>;

/** The phases of a run against a started cluster. */
async function exercise(cluster: ChaosCluster, o: ChaosOptions, now: () => number): Promise<RunRecord> {
  if (!(await cluster.waitForLeader(20_000))) {
    const exits = exitProblems(cluster);
    const why = exits.length > 0 ? ` (${exits.join('; ')})` : '';
    throw new ChaosAborted(`no leader was elected within 20 s of starting the cluster${why}; rerun with --keep-data to keep the server logs`);
  }
  const keys = Array.from({ length: o.keys }, (_, i) => `k${i + 1}`);
  const http = new KvHttp(cluster, { opTimeoutMs: o.opTimeoutMs, attemptTimeoutMs: 1000 }, seededRandom(o.seed ^ 0x5bd1e995));
  const workload = new Workload(http, cluster, { clients: o.clients, keys, seed: o.seed, now, readConsistency: o.readConsistency });
  const watch = new LeaderWatch(cluster, now);
  const probe = new LeaseProbe(workload.recorder, workload.info, cluster, o.leaseConsistency);
  const nemesis = new Nemesis(cluster, now, o.log, { probe, keys });
  const problems: string[] = [];
  let healedAt: number | null = null;
  watch.start();
  try {
    workload.start();
    try {
      healedAt = await faultPhase(cluster, nemesis, o, now, problems);
    } finally {
      nemesis.stop();
      await workload.stop();
    }
    if (!(await workload.finalReads(15_000))) problems.push('a final read failed, so lost writes could not be judged for that key');
  } finally {
    await watch.stop();
  }
  problems.push(...nemesis.problems, ...livenessProblems(workload, healedAt), ...watch.conflicts, ...exitProblems(cluster));
  const history = workload.recorder.history();
  return {
    endMs: now(), healedAt, history, info: workload.info, faults: nemesis.faults, membership: nemesis.membershipEvents, leaders: watch.spans, silences: watch.silences,
    leadersSeen: watch.leadersSeen(), judgement: judge(history, FINAL_CLIENT, o.checkSteps, problems),
  };
}

/**
 * The seeded faults for the run's duration, then heal everything and let the clients go on
 * for a while without faults. Resolves to when the heal began.
 */
async function faultPhase(cluster: ChaosCluster, nemesis: Nemesis, o: ChaosOptions, now: () => number, problems: string[]): Promise<number> {
  const plan = planFaults(seededRandom(o.seed), { kinds: o.faults, ordered: o.orderedFaults, durationMs: o.durationMs });
  const phaseStart = now();
  await nemesis.run(plan, phaseStart, phaseStart + o.durationMs);
  await sleep(phaseStart + o.durationMs - now());
  const healedAt = now();
  cluster.healAll();
  if (!(await cluster.waitForLeader(30_000))) problems.push('no leader within 30 s of healing every fault');
  await sleep(RECOVERY_MS);
  return healedAt;
}

function livenessProblems(workload: Workload, healedAt: number | null): string[] {
  if (healedAt === null) return [];
  const progressed = workload.recorder.history().some((op) => op.status === 'ok' && op.call >= healedAt && op.clientId !== FINAL_CLIENT);
  return progressed ? [] : ['no client operation succeeded after every fault was healed'];
}

/** The harness SIGKILLs, or SIGTERMs and waits (membership faults); any other exit is the server's own doing (a crash). */
function exitProblems(cluster: ChaosCluster): string[] {
  return cluster.unexpectedExits.map((e) => `${e.id} exited by itself at ${(e.at / 1000).toFixed(1)} s (code ${e.code}, signal ${e.signal}); see its log`);
}

function summarize(r: ReportInput, reportPath: string, wallMs: number): string {
  const c = r.judgement.counts;
  const leaders = r.leadersSeen.map((l) => `${l.node}@t${l.term}`).join(' ') || 'none';
  const verdict = r.judgement.passed ? 'PASS' : 'FAIL';
  const p = r.judgement.problems;
  const problems = p.length === 0 ? '' : `; ${p.length} problem${p.length === 1 ? '' : 's'} (${p[0]}${p.length > 1 ? '; …' : ''})`;
  return (
    `chaos seed ${r.seed}: ${verdict}: ${verdictText(r.judgement)}${problems}; ${r.faults.length} faults; ` +
    `${c.total} ops (${c.ok} ok, ${c.unknown} unknown, ${c.failed} failed); leaders ${leaders}; ` +
    `${(wallMs / 1000).toFixed(1)} s; report ${reportPath}`
  );
}
