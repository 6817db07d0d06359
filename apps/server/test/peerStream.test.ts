// --peer-stream (transport-http's `stream` option; the server's default): a 3-node cluster whose peer
// messages go over one long-lived stream per peer and direction. The leader's /v1/status shows
// each link `open`; concurrent writes are all acknowledged and readable from a follower; the
// leader is SIGKILLed, the others elect a new one over their streams and keep taking writes;
// the old leader restarts, catches up and its link is a stream again.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Cluster, type ServerNode } from './helpers/cluster.js';
import { putJson, rangeAll, send } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start({ args: ['--peer-stream'] });
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(() => cluster?.stop());

type Links = Record<string, { stream: string }>;
const links = async (n: ServerNode): Promise<Links> => (await send(`${n.url}/v1/status`)).json.peers as Links;

async function writeAll(base: string, prefix: string, n: number): Promise<Map<string, number>> {
  const acked = new Map<string, number>();
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const r = await putJson(base, `${prefix}/${i}`, i);
    expect(r.status, r.text).toBe(200);
    acked.set(`${prefix}/${i}`, i);
  }));
  return acked;
}

test('writes, a leader SIGKILL and a restart over streaming peer links', async () => {
  const leader = await cluster.leader();
  const before = await writeAll(leader.url, 'ps/a', 100);
  // Every link from the leader is a stream (not a fallback to requests).
  await waitFor('the leader\'s links to be streams', async () => Object.values(await links(leader)).every((l) => l.stream === 'open'));
  const follower = cluster.running.find((n) => n !== leader)!;
  const seen = await rangeAll(follower.url, 'ps/a/');
  expect(new Map([...seen].map(([k, v]) => [k, v.value]))).toEqual(before);

  await leader.kill('SIGKILL');
  const next = await cluster.leader();
  expect(next).not.toBe(leader);
  const after = await writeAll(next.url, 'ps/b', 50);

  leader.start();
  await cluster.waitHealthy(leader);
  const all = new Map([...before, ...after]);
  await waitFor('the restarted node to hold every acknowledged write', async () => {
    const got = await rangeAll(leader.url, 'ps/', 'stale');
    return got.size === all.size && [...all].every(([k, v]) => got.get(k)?.value === v);
  }, { timeoutMs: 20_000 });
  await waitFor('the new leader\'s links to be streams again', async () => Object.values(await links(next)).every((l) => l.stream === 'open'), { timeoutMs: 20_000 });
});

test('the default is streams; with --peer-stream=false the links are requests (stream: off)', async () => {
  expect(Object.values(await links(await cluster.leader())).map((l) => l.stream)).toEqual(['open', 'open']);
  const plain = await Cluster.start({ size: 3, args: ['--peer-stream=false'] });
  try {
    const leader = await plain.leader();
    expect((await putJson(leader.url, 'plain', 1)).status).toBe(200);
    expect(Object.values(await links(leader)).map((l) => l.stream)).toEqual(['off', 'off']);
  } finally {
    await plain.stop();
  }
});
