// Scratch: sequential PUT latency breakdown.
import { startCluster } from './cluster.mjs';
const { nodes, stop, waitForLeader } = await startCluster({ prefix: 'c1probe-' });
try {
  const { node } = await waitForLeader();
  const lat = [];
  for (let i = 0; i < 1500; i++) {
    const t = performance.now();
    const r = await fetch(`${node.url}/v1/kv/k${i % 100}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: 'x'.repeat(16) });
    await r.arrayBuffer();
    if (i >= 300) lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  console.log('PUT c=1 p50', lat[lat.length >> 1].toFixed(2), 'p90', lat[Math.floor(lat.length * 0.9)].toFixed(2), 'p99', lat[Math.floor(lat.length * 0.99)].toFixed(2));
  for (const n of nodes) {
    const m = await (await fetch(`${n.url}/metrics`)).text();
    console.log(n.id, m.split('\n').filter((l) => /persist|storage|sync|write/i.test(l) && /_sum|_count/.test(l)).join('\n'));
  }
} finally {
  await stop();
}
