// The write-unavailability gap of a leader restart (issue 10): a 3-node durable cluster, 4
// clients writing continuously, 20 graceful restarts of the current leader (SIGTERM, wait for
// the exit, start it again on the same data directory) and 5 kill -9 restarts for comparison.
// Per restart: the gap (the longest time without an acknowledged write, from the signal until
// the restarted node has caught up and half a second more), the requests that failed (an error
// answer or a broken connection; a 307 is not a failure) and how far the term moved. Goal: no
// failed request and a gap under 2 heartbeat intervals on graceful restarts.
// `pnpm build && node bench/restartGap.mjs`; RESTARTS / KILLS set the counts, BENCH_ARGS extra
// server flags (default timing: 50 ms ticks, heartbeat every tick, elections after 10 ticks).
import { printTable } from './table.mjs';
import { percentile, sleep, startNodes, waitFor } from './nodes.mjs';

const RESTARTS = Number(process.env.RESTARTS ?? 20);
const KILLS = Number(process.env.KILLS ?? 5);
const CLIENTS = 4;
const extraArgs = (process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean);
const flag = (name, def) => {
  const i = extraArgs.indexOf(name);
  return i >= 0 ? Number(extraArgs[i + 1]) : def;
};
const heartbeatMs = flag('--tick-ms', 50) * flag('--heartbeat-ticks', 1);
/** The window after a restarted node caught up in which a gap still counts (its rejoin could disturb). */
const SETTLE_MS = 500;

const cluster = await startNodes({ prefix: 'raftkit-restart-gap-', args: extraArgs });

/** Acknowledged write completions and failed requests over time (performance.now()). */
const acks = [];
const failures = [];
let stopping = false;
let target = cluster.nodes[0].url;

async function attempt(url, path, body) {
  try {
    const res = await fetch(url + path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body, redirect: 'manual', signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    if (res.status === 307) return { redirect: new URL(res.headers.get('location'), url).origin };
    if (res.status === 200) return { ok: true };
    let code = '';
    try {
      code = JSON.parse(text).error?.code ?? '';
    } catch {}
    return { failed: `${res.status} ${code}`.trim() };
  } catch (err) {
    return { failed: err?.name === 'TimeoutError' ? 'timeout' : (err?.cause?.code ?? String(err)) };
  }
}

/** One client: a write at a time to the node it thinks leads, moving on after a failure. */
async function client(c) {
  for (let i = 0; !stopping; i++) {
    const path = `/v1/kv/gap/c${c}-${i % 1000}`;
    const body = JSON.stringify({ c, i });
    for (let hops = 0; !stopping; hops++) {
      const url = target;
      const a = await attempt(url, path, body);
      if (a.ok) {
        acks.push(performance.now());
        break;
      }
      if (a.redirect) {
        target = a.redirect;
        continue;
      }
      failures.push({ at: performance.now(), why: a.failed });
      // Try the next node: the one that failed may be stopping or gone.
      if (target === url) target = cluster.nodes[(cluster.nodes.findIndex((n) => n.url === url) + 1) % cluster.nodes.length].url;
      await sleep(5);
    }
  }
}

/** The longest stretch between two acknowledged writes that overlaps [from, to]. */
function gapIn(from, to) {
  let gap = 0;
  for (let i = 1; i < acks.length; i++) {
    if (acks[i] <= from) continue;
    if (acks[i - 1] >= to) break;
    gap = Math.max(gap, acks[i] - acks[i - 1]);
  }
  const last = acks.at(-1) ?? from;
  return last < to ? Math.max(gap, to - Math.max(last, from)) : gap;
}

async function caughtUp(node) {
  const { status } = await cluster.leader();
  return waitFor(`${node.id} to catch up`, async () => ((await node.status())?.appliedIndex ?? -1) >= status.commitIndex, { intervalMs: 10 });
}

/** Restarts the current leader with `signal`; returns what the restart cost. */
async function restartLeader(signal) {
  const before = await cluster.leader();
  const settled = acks.length;
  await waitFor('writes to flow', () => acks.length >= settled + 20);
  const failedBefore = failures.length;
  const t0 = performance.now();
  const exit = await before.node.stop(signal);
  const stoppedMs = performance.now() - t0;
  before.node.start();
  await caughtUp(before.node);
  const back = performance.now();
  await sleep(SETTLE_MS);
  const after = await cluster.leader();
  const failed = failures.slice(failedBefore).filter((f) => f.at >= t0);
  return {
    node: before.node.id,
    gapMs: gapIn(t0, back + SETTLE_MS),
    stoppedMs,
    backMs: back - t0,
    failed: failed.length,
    why: [...new Set(failed.map((f) => f.why))].join(', '),
    termDelta: after.term - before.term,
    exit: exit.signal ?? `code ${exit.code}`,
  };
}

function summarize(kind, rows) {
  const gaps = rows.map((r) => r.gapMs);
  return {
    restarts: `${rows.length} x ${kind}`,
    'gap p50 ms': percentile(gaps, 50).toFixed(0),
    'gap max ms': Math.max(...gaps).toFixed(0),
    'under 2 heartbeats': `${rows.filter((r) => r.gapMs < 2 * heartbeatMs).length}/${rows.length}`,
    'failed requests': rows.reduce((s, r) => s + r.failed, 0),
    'restarts with failures': rows.filter((r) => r.failed > 0).length,
    'term +1 only': `${rows.filter((r) => r.termDelta === 1).length}/${rows.length}`,
    'stop ms p50': percentile(rows.map((r) => r.stoppedMs), 50).toFixed(0),
  };
}

const loops = [];
try {
  await cluster.leader();
  for (let c = 0; c < CLIENTS; c++) loops.push(client(c));
  await waitFor('the first writes', () => acks.length >= 100);
  const quiet = performance.now();
  await sleep(2000);
  const baseline = gapIn(quiet, performance.now());
  console.log(`raftkit-server restart gap: 3 durable nodes on 127.0.0.1, ${CLIENTS} writing clients, heartbeat ${heartbeatMs} ms; longest gap in 2 s without restarts: ${baseline.toFixed(0)} ms`);
  const graceful = [];
  for (let i = 0; i < RESTARTS; i++) graceful.push(await restartLeader('SIGTERM'));
  const killed = [];
  for (let i = 0; i < KILLS; i++) killed.push(await restartLeader('SIGKILL'));
  if (process.env.VERBOSE) printTable([...graceful, ...killed].map((r) => ({ ...r, gapMs: r.gapMs.toFixed(0), stoppedMs: r.stoppedMs.toFixed(0), backMs: r.backMs.toFixed(0) })));
  printTable([summarize('SIGTERM', graceful), summarize('kill -9', killed)]);
  const reasons = new Map();
  for (const r of [...graceful, ...killed]) for (const w of r.why.split(', ').filter(Boolean)) reasons.set(w, (reasons.get(w) ?? 0) + 1);
  if (reasons.size > 0) console.log(`failed requests were: ${[...reasons].map(([w, n]) => `${w} (in ${n} restarts)`).join('; ')}`);
  const goal = graceful.every((r) => r.failed === 0 && r.gapMs < 2 * heartbeatMs);
  console.log(`goal (graceful: no failed request, gap < ${2 * heartbeatMs} ms): ${goal ? 'met' : 'NOT met'}`);
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  for (const n of cluster.nodes) console.error(`[${n.id}] ${n.logTail().split('\n').join(`\n[${n.id}] `)}`);
  process.exitCode = 1;
} finally {
  stopping = true;
  await Promise.race([Promise.all(loops), sleep(3000)]);
  await cluster.stop();
}
