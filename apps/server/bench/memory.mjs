// Memory soak on a local 3-node raftkit-server cluster (the built dist/cli.js, its own temp data
// dir and free ports): N PUTs of 1 KiB values over K keys against the leader, sampling the
// leader's RSS (/proc/PID/status VmRSS), V8 heap and external memory (from /metrics) before,
// during and after. It prints figures; it is not a test.
// `pnpm build && pnpm bench`; MEM_WRITES (default 50,000), MEM_KEYS (8,000), MEM_CONNECTIONS
// (32), MEM_SAMPLE_EVERY (writes between samples, default MEM_WRITES/10), BENCH_DIR (parent of
// the scratch dir), BENCH_ARGS (extra server flags) and BENCH_ENV (extra `K=V ...` environment
// for the servers, e.g. `MALLOC_ARENA_MAX=2`, to compare allocators) change the run.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error(`bench runs the built server, but ${cli} is missing: run \`pnpm build\` first`);
  process.exit(1);
}
const WRITES = Number(process.env.MEM_WRITES ?? 50_000);
const KEYS = Number(process.env.MEM_KEYS ?? 8_000);
const CONNECTIONS = Number(process.env.MEM_CONNECTIONS ?? 32);
const SAMPLE_EVERY = Number(process.env.MEM_SAMPLE_EVERY ?? Math.max(1, Math.floor(WRITES / 10)));
const VALUE = JSON.stringify('x'.repeat(1022)); // 1 KiB of JSON
const extraArgs = (process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean);
const extraEnv = Object.fromEntries((process.env.BENCH_ENV ?? '').split(' ').filter(Boolean).map((kv) => kv.split(/=(.*)/s).slice(0, 2)));

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

const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'raftkit-server-mem-'));
const ports = await freePorts(3);
const nodes = ports.map((port, i) => ({ id: `n${i + 1}`, port, url: `http://127.0.0.1:${port}`, child: null }));

function startNode(n) {
  const peers = nodes.filter((p) => p !== n).map((p) => `${p.id}=${p.url}`).join(',');
  const log = openSync(join(root, `${n.id}.log`), 'a');
  const args = [cli, '--id', n.id, '--listen', `127.0.0.1:${n.port}`, '--peers', peers, '--data', join(root, n.id), '--log-level', 'warn', ...extraArgs];
  n.child = spawn(process.execPath, args, { stdio: ['ignore', log, log], env: { ...process.env, ...extraEnv } });
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
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopCluster().then(() => process.exit(130)));

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
    if (lead && all.filter((s) => s?.leader === lead.id && s.term === lead.term).length >= 2) return nodes.find((n) => n.id === lead.id);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no leader within ${timeoutMs} ms; logs in ${root}`);
}

/** RSS in MB from /proc, heap and external from the server's prom-client default metrics. */
async function sample(n, writes) {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${n.child.pid}/status`, 'utf8'))[1]) / 1024;
  const text = await (await fetch(`${n.url}/metrics`)).text();
  const metric = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  return { writes, 'rss MB': rss.toFixed(1), 'heap MB': metric('nodejs_heap_size_used_bytes').toFixed(1), 'external MB': metric('nodejs_external_memory_bytes').toFixed(1) };
}

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
function put(n, key) {
  return new Promise((resolve, reject) => {
    const req = request(`${n.url}/v1/kv/mem/${key}`, { method: 'PUT', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(VALUE) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(VALUE);
  });
}

async function drive(leader, samples) {
  let next = 0;
  let failures = 0;
  let nextSample = SAMPLE_EVERY;
  const worker = async () => {
    while (next < WRITES) {
      const i = next++;
      await put(leader, i % KEYS).catch(() => failures++);
      if (i + 1 >= nextSample) {
        nextSample += SAMPLE_EVERY;
        samples.push(await sample(leader, i + 1));
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return failures;
}

function table(rows) {
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padStart(width[i])).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${width.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}

try {
  for (const n of nodes) startNode(n);
  const leader = await waitForLeader();
  console.log(`raftkit-server memory: ${WRITES} PUTs of ${VALUE.length} B over ${KEYS} keys, ${CONNECTIONS} connections, leader ${leader.id}${extraArgs.length ? `, args ${extraArgs.join(' ')}` : ''}${process.env.BENCH_ENV ? `, env ${process.env.BENCH_ENV}` : ''}`);
  const samples = [await sample(leader, 0)];
  const started = Date.now();
  const failures = await drive(leader, samples);
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000)); // let flushes and compactions finish
  samples.push({ ...(await sample(leader, WRITES)), writes: `${WRITES} +2 s` });
  table(samples);
  const growth = (Number(samples.at(-1)['rss MB']) - Number(samples[0]['rss MB'])) * 1024 / WRITES;
  console.log(`${Math.round(WRITES / seconds)} writes/s, ${failures} failed; leader RSS grew ${growth.toFixed(2)} KB per write`);
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  agent.destroy();
  await stopCluster();
}
