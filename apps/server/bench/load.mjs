// Load on a local 3-node raftkit-server cluster (the built dist/cli.js, its own temp data dir and
// free ports): PUTs and linearizable GETs against the leader with 1, 16 and 64 connections,
// using autocannon. Prints throughput and p50/p99 latency, then stops the cluster and removes
// its data. `pnpm build && pnpm bench`; BENCH_SECONDS sets each case's duration (default 5),
// BENCH_DIR the parent of the scratch data directory, BENCH_ARGS extra server flags.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error(`bench runs the built server, but ${cli} is missing: run \`pnpm build\` first`);
  process.exit(1);
}
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = [1, 16, 64];
const VALUE = JSON.stringify({ payload: 'x'.repeat(100) });
const extraArgs = (process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean);

async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'raftkit-server-bench-'));
const ports = await freePorts(3);
const nodes = ports.map((port, i) => ({ id: `n${i + 1}`, port, url: `http://127.0.0.1:${port}`, child: null }));

function startNode(n) {
  const peers = nodes.filter((p) => p !== n).map((p) => `${p.id}=${p.url}`).join(',');
  const log = openSync(join(root, `${n.id}.log`), 'a');
  const args = [cli, '--id', n.id, '--listen', `127.0.0.1:${n.port}`, '--peers', peers, '--data', join(root, n.id), '--log-level', 'warn', ...extraArgs];
  n.child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  n.exited = new Promise((resolve) => n.child.once('exit', (code, signal) => resolve({ code, signal })));
}

let stopping = null;
function stopCluster() {
  stopping ??= (async () => {
    await Promise.all(
      nodes.map(async (n) => {
        if (!n.child || n.child.exitCode !== null || n.child.signalCode !== null) return;
        n.child.kill('SIGTERM');
        const timer = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
        await n.exited;
        clearTimeout(timer);
      }),
    );
    rmSync(root, { recursive: true, force: true });
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => stopCluster().then(() => process.exit(130)));
}

async function status(n) {
  try {
    const r = await fetch(`${n.url}/v1/status`, { signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

async function waitForLeader(timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const all = await Promise.all(nodes.map(status));
    const lead = all.find((s) => s?.role === 'leader');
    if (lead && all.filter((s) => s?.leader === lead.id && s.term === lead.term).length >= 2) return { node: nodes.find((n) => n.id === lead.id), term: lead.term };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no leader within ${timeoutMs} ms; logs in ${root}`);
}

function run(title, opts) {
  return autocannon({ title, duration: SECONDS, timeout: 10, ...opts });
}

const rows = [];
try {
  for (const n of nodes) startNode(n);
  const { node: leader, term } = await waitForLeader();
  const put = await fetch(`${leader.url}/v1/kv/bench/read`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: VALUE });
  if (!put.ok) throw new Error(`seed write failed: ${put.status} ${await put.text()}`);

  console.log(`raftkit-server load: 3 nodes on 127.0.0.1, leader ${leader.id}, ${SECONDS} s per case, ${cpus().length} CPUs, ${VALUE.length}-byte JSON values`);
  for (const connections of CONNECTIONS) {
    let n = 0;
    const putResult = await run('PUT', {
      url: leader.url,
      connections,
      requests: [{ method: 'PUT', headers: { 'content-type': 'application/json' }, body: VALUE, setupRequest: (req) => ({ ...req, path: `/v1/kv/bench/k${n++ % 10_000}` }) }],
    });
    const getResult = await run('GET', { url: `${leader.url}/v1/kv/bench/read?consistency=linearizable`, connections });
    for (const [op, r] of [['PUT', putResult], ['GET (linearizable)', getResult]]) {
      rows.push({
        op,
        connections,
        'req/s': Math.round(r['2xx'] / r.duration),
        'p50 ms': r.latency.p50,
        'p99 ms': r.latency.p99,
        'non-2xx': r.non2xx,
        errors: r.errors,
      });
    }
  }
  const after = await waitForLeader();
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padStart(width[i])).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${width.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
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
