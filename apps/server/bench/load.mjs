// Load on a local 3-node raftkit-server cluster (the built dist/cli.js, its own temp data dir and
// free ports): PUTs and linearizable GETs against the leader with 1, 16 and 64 connections,
// using autocannon. Prints throughput and p50/p99 latency, and for each node during each case its
// event-loop delay (p50/p99/max in ms, from raftkit_event_loop_delay_seconds) and CPU use (% of
// one core, from process_cpu_seconds_total), then stops the cluster and removes its data. `pnpm build && pnpm bench`; BENCH_SECONDS sets each case's duration (default 5),
// BENCH_DIR the parent of the scratch data directory, BENCH_ARGS extra server flags,
// BENCH_CONNECTIONS the connection counts (default "1 16 64"), BENCH_OPS which of "put get lease" to
// run (default "put get lease"), BENCH_WARMUP seconds of unreported load first (default 3), BENCH_NODE_FLAGS node flags for the servers (profiling: '--cpu-prof --cpu-prof-dir=DIR').
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startCluster } from './cluster.mjs';
import { caseFigures, scrape } from './scrape.mjs';
import { printTable } from './table.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1 16 64').split(' ').filter(Boolean).map(Number);
const OPS = new Set((process.env.BENCH_OPS ?? 'put get lease').split(' ').filter(Boolean));
/** Seconds of unreported PUTs and GETs first, so the first case does not measure a cold JIT and empty memtables. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const VALUE = JSON.stringify({ payload: 'x'.repeat(100) });
const extraArgs = (process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean);

const { root, nodes, stop: stopCluster, waitForLeader } = await startCluster({ prefix: 'raftkit-server-bench-', args: extraArgs });

/** One autocannon case, with every node scraped just before and just after it. */
async function run(title, opts) {
  const before = await Promise.all(nodes.map((n) => scrape(n.url)));
  const result = await autocannon({ title, duration: SECONDS, timeout: 10, ...opts });
  const after = await Promise.all(nodes.map((n) => scrape(n.url)));
  // The delay histogram is folded every second: one more fold takes in the case's last samples.
  await new Promise((r) => setTimeout(r, 1050));
  const folded = await Promise.all(nodes.map((n) => scrape(n.url)));
  result.perNode = nodes.map((n, i) => ({ id: n.id, ...caseFigures(before[i], after[i], folded[i]) }));
  return result;
}

const rows = [];
try {
  const { node: leader, term } = await waitForLeader();
  const put = await fetch(`${leader.url}/v1/kv/bench/read`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: VALUE });
  if (!put.ok) throw new Error(`seed write failed: ${put.status} ${await put.text()}`);

  if (WARMUP > 0) {
    let w = 0;
    const putReq = { method: 'PUT', headers: { 'content-type': 'application/json' }, body: VALUE, setupRequest: (req) => ({ ...req, path: `/v1/kv/bench/k${w++ % 10_000}` }) };
    await autocannon({ url: leader.url, connections: 16, duration: WARMUP / 2, requests: [putReq] });
    await autocannon({ url: `${leader.url}/v1/kv/bench/read`, connections: 16, duration: WARMUP / 2 });
  }
  console.log(`raftkit-server load: 3 nodes on 127.0.0.1, leader ${leader.id}, ${SECONDS} s per case after ${WARMUP} s of warm-up, ${cpus().length} CPUs, ${VALUE.length}-byte JSON values`);
  for (const connections of CONNECTIONS) {
    let n = 0;
    const results = [];
    if (OPS.has('put')) {
      results.push(['PUT', await run('PUT', {
        url: leader.url,
        connections,
        requests: [{ method: 'PUT', headers: { 'content-type': 'application/json' }, body: VALUE, setupRequest: (req) => ({ ...req, path: `/v1/kv/bench/k${n++ % 10_000}` }) }],
      })]);
    }
    if (OPS.has('get')) results.push(['GET (linearizable)', await run('GET', { url: `${leader.url}/v1/kv/bench/read?consistency=linearizable`, connections })]);
    if (OPS.has('lease')) results.push(['GET (lease)', await run('GET lease', { url: `${leader.url}/v1/kv/bench/read?consistency=lease`, connections })]);
    for (const [op, r] of results) {
      const leaderFigures = r.perNode.find((p) => p.id === leader.id);
      const others = r.perNode.filter((p) => p.id !== leader.id);
      rows.push({
        op,
        connections,
        'req/s': Math.round(r['2xx'] / r.duration),
        'p50 ms': r.latency.p50,
        'p99 ms': r.latency.p99,
        'non-2xx': r.non2xx,
        errors: r.errors,
        'leader CPU': leaderFigures.cpu,
        [`ELD ms ${leader.id} (leader)`]: leaderFigures.eld,
        ...Object.fromEntries(others.map((p) => [`ELD ms ${p.id}`, p.eld])),
        'follower CPU': others.map((p) => p.cpu).join(' '),
      });
    }
  }
  const after = await waitForLeader();
  printTable(rows);
  console.log('ELD: event-loop delay p50/p99/<=max in ms (max: the bound of the highest bucket hit); CPU: % of one core');
  if (after.node !== leader || after.term !== term) console.log(`note: the leader changed during the run (${leader.id} term ${term} -> ${after.node.id} term ${after.term})`);
  const failed = rows.some((r) => r['non-2xx'] > 0 || r.errors > 0);
  if (failed) {
    console.log('some requests failed; last log lines:');
    for (const n of nodes) console.log(`[${n.id}] ${readFileSync(join(root, `${n.id}.log`), 'utf8').trim().split('\n').slice(-5).join(`\n[${n.id}] `)}`);
  }
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await stopCluster();
}
