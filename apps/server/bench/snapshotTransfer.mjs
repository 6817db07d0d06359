// Streamed snapshots, measured (issue 12). Two cases on a 3-node durable cluster on 127.0.0.1:
// - `big`: n3 is down while the leader takes ~SNAPSHOT_MB of state (64 KiB values), takes a
//   snapshot (POST /v1/snapshot) and compacts its whole log (--snapshot-trailing 0); n3 starts
//   and receives, stores and installs the snapshot. Reports the time to take it, the time until
//   n3 applied the leader's commit index, and n3's peak RSS (VmHWM) against its RSS when it ran
//   idle and empty.
// - `down`: n3 is down for WRITES small writes, then catches up: through the log (trailing
//   margin larger than the gap) or through a snapshot (--snapshot-every 10000, no trailing log).
// `pnpm build && node bench/snapshotTransfer.mjs`; SNAPSHOT_MB (default 200), WRITES (default
// 100000), CASES=big,down.
import { readFileSync } from 'node:fs';
import { printTable } from './table.mjs';
import { fill, getJson, sleep, startNodes, waitFor } from './nodes.mjs';

const SNAPSHOT_MB = Number(process.env.SNAPSHOT_MB ?? 200);
const WRITES = Number(process.env.WRITES ?? 100_000);
const CASES = (process.env.CASES ?? 'big,down').split(',');
const CONCURRENCY = 32;

/** VmRSS and VmHWM of a process, in MB. */
function memory(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Waits until `node` applied `index`, sampling its memory meanwhile; returns ms and peak. */
async function catchUp(node, index) {
  const t0 = performance.now();
  let peak = 0;
  await waitFor(`${node.id} to apply ${index}`, async () => {
    if (node.child?.pid) peak = Math.max(peak, memory(node.child.pid).hwm);
    const s = await node.status();
    return s && s.appliedIndex >= index;
  }, { timeoutMs: 600_000, intervalMs: 50 });
  return { ms: performance.now() - t0, peak: Math.max(peak, memory(node.child.pid).hwm), status: await node.status() };
}

async function big() {
  const cluster = await startNodes({ prefix: 'raftkit-snap-big-', args: ['--snapshot-every', '1000000', '--snapshot-trailing', '0', '--max-value-bytes', String(1 << 20)] });
  try {
    const { node: leader } = await cluster.leader();
    const n3 = cluster.nodes.find((n) => n !== leader && n.id !== cluster.nodes.find((m) => m !== leader).id);
    await waitFor('n3 up', () => n3.status());
    await sleep(1000);
    const idle = memory(n3.child.pid).rss;
    await n3.stop('SIGKILL');
    const value = JSON.stringify('v'.repeat(64 * 1024 - 2));
    const count = Math.ceil((SNAPSHOT_MB * 1024 * 1024) / value.length);
    const w0 = performance.now();
    const failed = await fill(leader.url, 'big', count, value, CONCURRENCY);
    const writeS = (performance.now() - w0) / 1000;
    const s0 = performance.now();
    const snap = await fetch(`${leader.url}/v1/snapshot`, { method: 'POST' }).then((r) => r.json());
    const snapMs = performance.now() - s0;
    // The node's own account of it (raftkit_snapshot_seconds{phase}): stream+storage vs switch.
    const metrics = await fetch(`${leader.url}/metrics`).then((r) => r.text());
    const read = (what, p) => Number(new RegExp(`raftkit_snapshot_seconds_${what}\\{phase="${p}"\\} ([0-9.e+-]+)`).exec(metrics)?.[1] ?? NaN);
    // Mean per snapshot: the 64 MiB byte policy also took some during the load.
    const phase = (p) => (read('sum', p) * 1000) / read('count', p);
    const taken = read('count', 'write');
    const leaderMem = memory(leader.child.pid);
    const target = (await leader.status()).commitIndex;
    n3.start();
    const c = await catchUp(n3, target);
    return {
      case: `big: ${count} × 64 KiB values`,
      'failed writes': failed,
      'write s': writeS.toFixed(1),
      'snapshot MB': (snap.size / 1024 / 1024).toFixed(1),
      'take snapshot ms': snapMs.toFixed(0),
      'snapshots taken, mean write + install ms': `${taken}: ${phase('write').toFixed(0)} + ${phase('install').toFixed(0)}`,
      'leader RSS/peak MB': `${leaderMem.rss.toFixed(0)}/${leaderMem.hwm.toFixed(0)}`,
      'n3 send+install+apply ms': c.ms.toFixed(0),
      'n3 idle RSS MB': idle.toFixed(0),
      'n3 peak RSS MB': c.peak.toFixed(0),
      'n3 peak above idle MB': (c.peak - idle).toFixed(0),
      'n3 snapshot index': c.status.snapshotIndex,
    };
  } finally {
    await cluster.stop();
  }
}

async function down(path) {
  const args = path === 'log' ? ['--snapshot-every', '10000', '--snapshot-trailing', String(WRITES * 2)] : ['--snapshot-every', '10000', '--snapshot-trailing', '0'];
  const cluster = await startNodes({ prefix: `raftkit-snap-down-${path}-`, args });
  try {
    const { node: leader } = await cluster.leader();
    const n3 = cluster.nodes.filter((n) => n !== leader)[1];
    await waitFor('n3 up', () => n3.status());
    await n3.stop('SIGKILL');
    const failed = await fill(leader.url, 'down', WRITES, JSON.stringify({ payload: 'x'.repeat(100) }), CONCURRENCY);
    const target = (await leader.status()).commitIndex;
    n3.start();
    const c = await catchUp(n3, target);
    const members = await getJson(`${leader.url}/v1/status`);
    return {
      case: `down for ${WRITES} writes, ${path} path (${args.join(' ')})`,
      'failed writes': failed,
      'leader snapshot index': members?.snapshotIndex ?? '?',
      'n3 catch-up ms': c.ms.toFixed(0),
      'n3 snapshot index': c.status.snapshotIndex,
      'n3 peak RSS MB': c.peak.toFixed(0),
    };
  } finally {
    await cluster.stop();
  }
}

try {
  console.log('raftkit-server streamed snapshots: 3 durable nodes on 127.0.0.1, the load generator on the same machine');
  if (CASES.includes('big')) printTable([await big()]);
  if (CASES.includes('down')) printTable([await down('log'), await down('snapshot')]);
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exitCode = 1;
}
