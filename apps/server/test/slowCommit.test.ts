// A write without idempotency headers has no session to deduplicate it, so the server must
// propose it once. Both followers are paused (SIGSTOP) for longer than KvClient's 2 s attempt
// timeout, but shorter than the election timeout, so the leader keeps its role and the writes
// commit late. A re-proposal would apply them twice: the CAS would then report ok: false against
// its own value and the delete would report that nothing was deleted.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Cluster } from './helpers/cluster.js';
import { getKey, jsonHeaders, putJson, send, type Reply } from './helpers/http.js';

// Election timeouts of 3-6 s (20 ticks of 150 ms); the pause stays below that and above 2 s.
const TIMING = ['--tick-ms', '150', '--election-ticks', '20', '--heartbeat-ticks', '1'];
const PAUSE_MS = 2300;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start({ args: TIMING });
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(() => cluster?.stop());

test('an untagged CAS and delete whose commit takes longer than 2 s each apply exactly once', async () => {
  const leader = await cluster.leader();
  const followers = cluster.nodes.filter((n) => n !== leader);
  const del0 = await putJson(leader.url, 'slow/del', 'present');
  expect(del0.status).toBe(200);
  const term = (await leader.status())!.term;

  for (const f of followers) f.signal('SIGSTOP');
  let settled = false;
  const cas = send(`${leader.url}/v1/kv/slow/lock/cas`, { method: 'POST', headers: jsonHeaders, body: JSON.stringify({ expected: null, value: 'mine' }) });
  const del = send(`${leader.url}/v1/kv/slow/del`, { method: 'DELETE' });
  void Promise.allSettled([cas, del]).then(() => (settled = true));
  // The fault: no quorum for PAUSE_MS. (A duration of the injected fault, not a wait for calm.)
  await new Promise((r) => setTimeout(r, PAUSE_MS));
  const pendingDuringPause = !settled;
  for (const f of followers) f.signal('SIGCONT');

  const [casReply, delReply] = await Promise.all([cas, del]);
  expect(pendingDuringPause).toBe(true);
  const casResult = ok(casReply);
  const delResult = ok(delReply);
  expect(casResult).toEqual({ revision: casResult.revision, ok: true });
  expect(delResult).toEqual({ revision: delResult.revision, deleted: true });

  // Still the same leader and term: the writes committed late, not through a new election.
  expect((await leader.status())!).toMatchObject({ role: 'leader', term });
  expect(ok(await getKey(leader.url, 'slow/lock'))).toMatchObject({ value: 'mine', modRevision: casResult.revision });
  expect((await getKey(leader.url, 'slow/del')).status).toBe(404);
  // Nothing else was appended for these two requests.
  const s = (await leader.status())!;
  expect(s.commitIndex).toBe(Math.max(casResult.revision, delResult.revision));
});

function ok(r: Reply): any {
  if (r.status !== 200) throw new Error(`expected 200, got ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}
