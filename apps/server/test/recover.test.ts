// Disaster recovery with real processes: a 3-node cluster loses every node, only one data
// directory is usable; `raftkit-server recover --force-new-cluster` makes that node the single
// voter of a new configuration, it serves the committed keys alone, and a new node --joins it.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { putJson, rangeAll } from './helpers/http.js';
import { clusterWithExtras, newNode, roles, runRecover, waitForMembers } from './helpers/members.js';

const { cluster: clusterOf, extra } = clusterWithExtras();

test('recover --force-new-cluster: the survivor alone serves every committed key, takes writes, and a new node joins it', async () => {
  const cluster = clusterOf();
  const leader = await cluster.leader();
  const written = new Map<string, number>();
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const r = await putJson(leader.url, `rc/${i}`, { i });
      expect(r.status).toBe(200);
      written.set(`rc/${i}`, r.json.revision);
    }),
  );
  // Every acknowledged write is on a majority; the survivor must have it (any follower will do
  // once it applied them: the test picks one that did).
  const survivor = cluster.nodes.find((n) => n !== leader)!;
  await cluster.caughtUp(survivor, Math.max(...written.values()));
  await cluster.killAll('SIGKILL');

  // Refusals first: no --force-new-cluster, an id that is not this log's, a missing directory.
  const noForce = runRecover(['--data', survivor.dataDir, '--id', survivor.id]);
  expect([noForce.status, noForce.stderr]).toEqual([2, expect.stringContaining('--force-new-cluster')]);
  const wrongId = runRecover(['--force-new-cluster', '--data', survivor.dataDir, '--id', 'stranger']);
  expect([wrongId.status, wrongId.stderr]).toEqual([2, expect.stringContaining('not a member')]);
  const noDir = runRecover(['--force-new-cluster', '--data', `${cluster.root}/nothing-here`, '--id', survivor.id]);
  expect(noDir.status).toBe(1);

  const done = runRecover(['--force-new-cluster', '--data', survivor.dataDir, '--id', survivor.id, '--url', survivor.url]);
  expect(done.status, done.stderr).toBe(0);
  expect(done.stderr).toMatch(/UNSAFE/);
  expect(done.stderr).toMatch(/LOST/);

  // Started as before (its --peers still names the dead nodes: ignored, the log decides).
  survivor.start();
  await cluster.leader();
  expect((await survivor.status())!.role).toBe('leader');
  expect(readFileSync(survivor.logPath, 'utf8')).toContain('membership comes from it (--peers ignored)');
  const seen = await rangeAll(survivor.url, 'rc/');
  expect(new Map([...seen].map(([k, v]) => [k, v.modRevision]))).toEqual(written);
  expect((await putJson(survivor.url, 'rc/after', 'alone')).status).toBe(200);
  expect(roles(await waitForMembers(survivor.url, { [survivor.id]: 'voter' }))).toEqual({ [survivor.id]: 'voter' });

  // A new machine joins the recovered node and becomes a voter with all the data.
  const n4 = await newNode(cluster, 'n4', ['--join', survivor.url]);
  extra.push(n4);
  n4.start();
  await waitForMembers(survivor.url, { [survivor.id]: 'voter', n4: 'voter' });
  const afterJoin = await putJson(survivor.url, 'rc/joined', 'two');
  expect(afterJoin.status).toBe(200);
  await cluster.caughtUp(n4, afterJoin.json.revision);
  const onN4 = await rangeAll(n4.url, 'rc/', 'stale');
  for (const [k, rev] of written) expect(onN4.get(k)?.modRevision, k).toBe(rev);
  expect(onN4.get('rc/joined')?.value).toBe('two');
});
