// The README's "replace a dead machine" runbook with real processes: a follower is killed -9
// for good, removed by id, and a fresh machine joins under a new id with --join. It becomes a
// voter holding the old keys, and the cluster then survives the loss of another original node.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { getKey, putJson, rangeAll, send } from './helpers/http.js';
import { clusterWithExtras, members, newNode, roles, waitForMembers } from './helpers/members.js';
import { waitFor } from './helpers/poll.js';

const { cluster: clusterOf, extra } = clusterWithExtras();

test('replace a dead follower: DELETE it, --join a fresh node under a new id; it votes, has the data, and the cluster survives losing another original', async () => {
  const cluster = clusterOf();
  const leader = await cluster.leader();
  const written = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const r = await putJson(leader.url, `jr/${i}`, { i });
    expect(r.status).toBe(200);
    written.set(`jr/${i}`, r.json.revision);
  }
  const [dead, keep] = cluster.nodes.filter((n) => n !== leader);
  await dead!.kill('SIGKILL');

  // 1. Remove the dead member by id (any node: a follower redirects to the leader).
  const removed = await send(`${keep!.url}/v1/members/${dead!.id}`, { method: 'DELETE', follow: true, timeoutMs: 20_000 });
  expect(removed.status, removed.text).toBe(200);
  expect(roles(removed.json)).toEqual({ [leader.id]: 'voter', [keep!.id]: 'voter' });

  // 2. A fresh machine (empty data directory), a new id, --join through a follower.
  const n4 = await newNode(cluster, 'n4', ['--join', keep!.url]);
  extra.push(n4);
  n4.start();
  const joined = await waitForMembers(leader.url, { [leader.id]: 'voter', [keep!.id]: 'voter', n4: 'voter' });
  expect(joined.members.find((m) => m.id === 'n4')?.url).toBe(n4.url);
  // The leader's answer to n4's POST may arrive a moment after the change is visible.
  await waitFor('n4 to log that it joined', () => readFileSync(n4.logPath, 'utf8').includes('joined the cluster as a voter'));

  // 3. It holds the old keys (its own state, not asked of anyone).
  const last = Math.max(...written.values());
  await cluster.caughtUp(n4, last);
  const onN4 = await rangeAll(n4.url, 'jr/', 'stale');
  expect(new Map([...onN4].map(([k, v]) => [k, v.modRevision]))).toEqual(written);

  // A learner joins too (--learner): it gets the data, and stays out of every majority.
  const n5 = await newNode(cluster, 'n5', ['--join', leader.url, '--learner']);
  extra.push(n5);
  n5.start();
  await waitForMembers(leader.url, { [leader.id]: 'voter', [keep!.id]: 'voter', n4: 'voter', n5: 'learner' });
  await cluster.caughtUp(n5, last);
  expect((await rangeAll(n5.url, 'jr/', 'stale')).size).toBe(written.size);

  // 4. Another original node dies: n4 and the last original are a majority of three.
  const term = (await leader.status())!.term;
  await leader.kill('SIGKILL');
  const next = await waitFor('a leader among the survivors', async () => {
    for (const n of [keep!, n4]) {
      const s = await n.status();
      if (s?.role === 'leader' && s.term > term) return n;
    }
    return null;
  }, { timeoutMs: 20_000 });
  const w = await putJson(next.url, 'jr/after', 'survived');
  expect(w.status, w.text).toBe(200);
  const other = next === n4 ? keep! : n4;
  const read = await getKey(other.url, 'jr/after');
  expect([read.status, read.json?.value]).toEqual([200, 'survived']);
  expect(roles(await members(other.url))).toEqual({ [leader.id]: 'voter', [keep!.id]: 'voter', n4: 'voter', n5: 'learner' });

  // 5. Restarted, n4 takes its membership from its log and ignores --join.
  await n4.kill('SIGTERM');
  n4.start();
  await waitFor('n4 back, following a leader', async () => (await n4.status())?.leader ?? null);
  expect((await putJson(n4.url, 'jr/restarted', 1)).status).toBe(200);
  expect(readFileSync(n4.logPath, 'utf8')).toContain('membership comes from it (--join ignored)');
});
