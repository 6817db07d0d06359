import { snapshotBytes, type TestingBugs } from '@raftkit/core';
import { SimViolation, Simulation } from '@raftkit/core/testing';
import { checkHistory, formatResult, kvModel } from '@raftkit/lincheck';
import { SimCluster } from './cluster.js';
import type { MembershipNemesis, MembershipStats } from './membershipNemesis.js';
import { Nemesis, type FaultEvent } from './nemesis.js';
import { isCoreProfile, type SimProfile } from './profiles.js';
import { Violation } from './safety.js';
import { Workload } from './workload.js';

export interface SimOptions {
  seed: number;
  nodes: number;
  clients: number;
  /** Virtual milliseconds of faults. */
  faultMs: number;
  /** Virtual milliseconds allowed, after faults stop, for a leader and for every client to finish. */
  quietMs: number;
  bugs: TestingBugs;
  /** Forces one fault schedule in both engines; by default each seed draws its own. */
  profile?: SimProfile;
  /** TEST ONLY: turn off pre-vote in the end-to-end engine, to show its stability check fails. */
  raft?: { preVote?: boolean };
  /** TEST ONLY: skip the message-level engine, to show what the end-to-end engine finds alone. */
  endToEndOnly?: boolean;
}

export interface SimOutcome {
  seed: number;
  ok: boolean;
  property?: string;
  detail?: string;
  virtualMs: number;
  wallMs: number;
  ops: { ok: number; failed: number; unknown: number };
  leaders: number;
  committed: number;
  crashes: number;
  /** Unsynced writes (commit indexes) lost in crashes. */
  lostWrites: number;
  /** Snapshot chunks the nodes sent one another, and how many of them the faults dropped. */
  snapshotChunks: { sent: number; dropped: number };
  /** Healthy-leader windows, and the virtual ms of them in which stability was checked. */
  stableWindows: number;
  stableMs: number;
  faults: number;
  /** The membership profile: what the churn did, and the configurations committed. */
  membership?: MembershipStats & { configs: number; joint: number };
  /** For a failure: what a person needs to replay and understand it. */
  trace?: { options: SimOptions; events: FaultEvent[]; history: unknown; check?: string };
}

const STEP_MS = 1;

/**
 * The message-level engine: the pure cores of `@raftkit/core/testing`, with every message,
 * tick and disk write scheduled by the seed. Thousands of steps in milliseconds, so it reaches
 * rare interleavings (Raft's Figure 8) that the slower end-to-end engine seldom does.
 */
function runCoreEngine(opts: SimOptions): { property: string; detail: string } | null {
  try {
    const profile = opts.profile && isCoreProfile(opts.profile) ? { profile: opts.profile } : {};
    new Simulation({ seed: opts.seed, nodes: opts.nodes, faultSteps: 1500, quietSteps: 600, bugs: opts.bugs, ...profile }).run();
    return null;
  } catch (err) {
    if (!(err instanceof SimViolation)) return { property: 'raft invariant (core engine)', detail: String((err as Error).message) };
    const m = /violated: (.*)$/.exec(err.message);
    const property = /: ([^:]+) violated/.exec(err.message)?.[1] ?? 'safety';
    return { property: `${property} (core engine)`, detail: m?.[1] ?? err.message };
  }
}

/**
 * One seeded run: first the message-level core engine, then the end-to-end engine — real
 * RaftNodes with the KV state machine and clients, faults, then calm; checks after every step.
 */
export async function runSeed(opts: SimOptions): Promise<SimOutcome> {
  const started = performance.now();
  const coreViolation = opts.endToEndOnly ? null : runCoreEngine(opts);
  const churn = opts.profile === 'membership';
  const cluster = new SimCluster({ seed: opts.seed, nodes: opts.nodes, tickMs: 10, bugs: opts.bugs, membership: churn, ...(opts.raft ? { raft: opts.raft } : {}) });
  const nemesis = new Nemesis(cluster, opts.profile);
  const work = new Workload(cluster, opts.clients);
  nemesis.onResume = (id) => work.probeLease(id);
  const outcome = (ok: boolean, v?: { property: string; detail: string }, check?: string): SimOutcome => ({
    seed: opts.seed,
    ok,
    ...(v ? { property: v.property, detail: v.detail } : {}),
    virtualMs: cluster.now(),
    wallMs: Math.round(performance.now() - started),
    ops: { ...work.counts },
    leaders: cluster.safety.counts.leaders,
    committed: cluster.safety.counts.committed,
    crashes: cluster.stats.crashes,
    lostWrites: cluster.stats.lostWrites,
    snapshotChunks: { sent: cluster.net.stats().byType.snapshotChunk.sent, dropped: cluster.net.stats().byType.snapshotChunk.dropped },
    stableWindows: cluster.stability.stats.windows,
    stableMs: cluster.stability.stats.checkedSteps,
    faults: nemesis.events.length,
    ...(nemesis.members ? { membership: { ...nemesis.members.stats, ...cluster.membership.counts } } : {}),
    ...(ok ? {} : { trace: { options: opts, events: nemesis.events, history: work.history.history(), ...(check ? { check } : {}) } }),
  });
  if (coreViolation) return outcome(false, coreViolation);
  try {
    await cluster.start();
    work.start();
    while (cluster.now() < opts.faultMs) {
      await nemesis.step();
      await cluster.advance(STEP_MS);
    }
    await nemesis.calm();
    const stopping = work.stop();
    // Removed nodes still running are switched off first: clients may be asking them.
    if (nemesis.members) await settleMembership(cluster, nemesis.members, opts.quietMs);
    await runUntil(cluster, opts.quietMs, 'every client finishes after faults stop', done(stopping));
    await runUntil(cluster, opts.quietMs, 'a leader is elected after faults stop', () => cluster.leaders().length === 1);
    await finalReads(cluster, work);
    await runUntil(cluster, opts.quietMs, 'every node applies everything', () => converged(cluster));
    await checkSameState(cluster);
    const t0 = performance.now();
    const check = checkHistory(kvModel, work.history.history(), { maxSteps: 5_000_000 });
    if (process.env.HARNESS_DEBUG) console.error(`seed ${opts.seed}: sim ${Math.round(t0 - started)} ms, check ${Math.round(performance.now() - t0)} ms, ${check.result} ${JSON.stringify(work.errors)}`);
    if (check.result === 'illegal') {
      return outcome(false, { property: 'linearizability', detail: 'the client history is not linearizable' }, formatResult(check));
    }
    if (check.result === 'unknown') {
      // Inconclusive is not a pass: say so, so the budget or the workload gets fixed.
      return outcome(false, { property: 'linearizability (inconclusive)', detail: 'the checker ran out of budget' }, formatResult(check));
    }
    return outcome(true);
  } catch (err) {
    if (err instanceof Violation) return outcome(false, { property: err.property, detail: err.detail });
    return outcome(false, { property: 'harness error', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  } finally {
    await cluster.stopAll();
  }
}

/**
 * The membership must settle once faults stop (committed, not joint: a joint configuration is
 * never stuck), and the nodes that are not members any more are switched off.
 */
async function settleMembership(c: SimCluster, members: MembershipNemesis, ms: number): Promise<void> {
  const deadline = c.now() + ms;
  while (!(await members.finish())) {
    if (c.now() >= deadline) throw new Violation('liveness', `not true ${ms} virtual ms after faults stopped: the membership settles (committed, not joint)`);
    await c.advance(STEP_MS * 5);
  }
  await runUntil(c, ms, 'a leader is elected after the membership settles', () => c.leaders().length === 1);
}

function done(p: Promise<void>): () => boolean {
  let finished = false;
  void p.then(() => (finished = true));
  return () => finished;
}

async function runUntil(c: SimCluster, ms: number, what: string, cond: () => boolean): Promise<void> {
  const deadline = c.now() + ms;
  while (!cond()) {
    if (c.now() >= deadline) throw new Violation('liveness', `not true ${ms} virtual ms after faults stopped: ${what}`);
    await c.advance(STEP_MS * 5);
  }
}

/** One linearizable read of every key, recorded: the final state joins the checked history. */
async function finalReads(c: SimCluster, work: Workload): Promise<void> {
  const client = work.newClient();
  for (let i = 0; i < 4; i++) {
    let finished = false;
    void work.get(client, 'final', `k${i}`).then(() => (finished = true));
    await runUntil(c, 5000, `final read of k${i}`, () => finished);
  }
}

function converged(c: SimCluster): boolean {
  const rs = c.replicas();
  if (rs.length !== c.ids.length) return false;
  const commit = Math.max(...rs.map((r) => r.node.status().commitIndex));
  return rs.every((r) => r.node.status().appliedIndex === commit);
}

/** State machine safety, end to end: every replica's whole KV state is byte-identical. */
async function checkSameState(c: SimCluster): Promise<void> {
  const snaps = await Promise.all(c.replicas().map(async (r) => ({ id: r.node.id, bytes: Buffer.from(await snapshotBytes(await r.machine.snapshot())).toString('base64') })));
  const first = snaps[0]!;
  for (const s of snaps) {
    if (s.bytes !== first.bytes) throw new Violation('state machine safety', `${s.id}'s KV state differs from ${first.id}'s after convergence`);
  }
}
