// Memory soak on a local 3-node raftkit-server cluster (the built dist/cli.js, its own temp data
// dir and free ports): N PUTs of 1 KiB values over K keys against the leader, sampling the
// leader's RSS (/proc/PID/status VmRSS), V8 heap and external memory (from /metrics) before,
// during and after. It prints figures; it is not a test.
// `pnpm build && pnpm bench`; MEM_WRITES (default 50,000), MEM_KEYS (8,000), MEM_CONNECTIONS
// (32), MEM_SAMPLE_EVERY (writes between samples, default MEM_WRITES/10), BENCH_DIR (parent of
// the scratch dir), BENCH_ARGS (extra server flags) and BENCH_ENV (extra `K=V ...` environment
// for the servers, e.g. `MALLOC_ARENA_MAX=2`, to compare allocators) change the run.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { startCluster } from './cluster.mjs';
import { printTable } from './table.mjs';

const WRITES = Number(process.env.MEM_WRITES ?? 50_000);
const KEYS = Number(process.env.MEM_KEYS ?? 8_000);
const CONNECTIONS = Number(process.env.MEM_CONNECTIONS ?? 32);
const SAMPLE_EVERY = Number(process.env.MEM_SAMPLE_EVERY ?? Math.max(1, Math.floor(WRITES / 10)));
const VALUE = JSON.stringify('x'.repeat(1022)); // 1 KiB of JSON
const extraArgs = (process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean);
const extraEnv = Object.fromEntries((process.env.BENCH_ENV ?? '').split(' ').filter(Boolean).map((kv) => kv.split(/=(.*)/s).slice(0, 2)));

const { stop: stopCluster, waitForLeader } = await startCluster({ prefix: 'raftkit-server-mem-', args: extraArgs, env: extraEnv });

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

try {
  const { node: leader } = await waitForLeader();
  console.log(`raftkit-server memory: ${WRITES} PUTs of ${VALUE.length} B over ${KEYS} keys, ${CONNECTIONS} connections, leader ${leader.id}${extraArgs.length ? `, args ${extraArgs.join(' ')}` : ''}${process.env.BENCH_ENV ? `, env ${process.env.BENCH_ENV}` : ''}`);
  const samples = [await sample(leader, 0)];
  const started = Date.now();
  const failures = await drive(leader, samples);
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000)); // let flushes and compactions finish
  samples.push({ ...(await sample(leader, WRITES)), writes: `${WRITES} +2 s` });
  printTable(samples);
  const growth = (Number(samples.at(-1)['rss MB']) - Number(samples[0]['rss MB'])) * 1024 / WRITES;
  console.log(`${Math.round(WRITES / seconds)} writes/s, ${failures} failed; leader RSS grew ${growth.toFixed(2)} KB per write`);
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  agent.destroy();
  await stopCluster();
}
