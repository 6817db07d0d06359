// kill -9 during snapshot transfer and install, with real processes: a follower that missed
// thousands of writes (the leader compacted its log right up to its snapshot) is started and
// SIGKILLed 20 times at seeded random points while it receives, stores and installs the
// snapshot; then it runs to the end. It must come back consistent every time, resume rather
// than start over, and finally hold every acknowledged write with its revision.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { seededRandom } from '@raftkit/core';
import { Cluster } from './helpers/cluster.js';
import { putJson, rangeAll } from './helpers/http.js';

const KILLS = 20;

let cluster: Cluster;
beforeAll(async () => {
  // Small chunks make a transfer of many steps; no trailing log forces the snapshot path.
  cluster = await Cluster.start({ args: ['--snapshot-every', '200', '--snapshot-trailing', '0', '--snapshot-chunk-bytes', '8192'] });
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs(80);
});
afterAll(() => cluster?.stop());

test(`a follower SIGKILLed ${KILLS} times while it receives and installs a snapshot comes back consistent and catches up`, async () => {
  const leader = await cluster.leader();
  const follower = cluster.nodes.find((n) => n !== leader)!;
  await follower.kill('SIGKILL');
  const acked = new Map<string, number>();
  const pad = 'p'.repeat(600);
  // ~1.5 MB of state: about 190 chunks of 8 KiB.
  for (let batch = 0; batch < 25; batch++) {
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const key = `sc/${batch}/${i}`;
        const r = await putJson(leader.url, key, { batch, i, pad });
        expect(r.status, r.text).toBe(200);
        acked.set(key, r.json.revision);
      }),
    );
  }
  const rand = seededRandom(20261202);
  let statuses = 0;
  for (let k = 0; k < KILLS; k++) {
    follower.start();
    // A random point in the process's life: starting, receiving chunks, installing, restoring.
    await new Promise((r) => setTimeout(r, 150 + Math.floor(rand() * 1200)));
    const s = await follower.status().catch(() => null);
    // Whatever it reports is consistent: never applied beyond its commit index.
    if (s) expect(s.appliedIndex).toBeLessThanOrEqual(s.commitIndex);
    if (s) statuses++;
    // More acknowledged writes between kills.
    const key = `sc/between/${k}`;
    const r = await putJson(leader.url, key, { k });
    expect(r.status, r.text).toBe(200);
    acked.set(key, r.json.revision);
    await follower.kill('SIGKILL');
  }
  expect(statuses).toBeGreaterThan(KILLS / 2); // most kills hit a running, serving process
  follower.start();
  await cluster.caughtUp(follower, Math.max(...acked.values()), { timeoutMs: 60_000 });
  const seen = await rangeAll(follower.url, 'sc/', 'stale');
  expect(seen.size).toBe(acked.size);
  for (const [k, rev] of acked) expect(seen.get(k)?.modRevision, k).toBe(rev);
}, 180_000);
