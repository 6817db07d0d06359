// The root README's quick start, as written, against a cluster started the way `pnpm start`
// (scripts/start.mjs) starts one: default flags, so the default --follower-mode (forward since
// issue 13). Before, a PUT to a follower answered 307 with nothing applied, and the GET that
// follows answered KV_NOT_FOUND. Free ports stand in for 7001-7003.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { cleanEnv, freePorts, requireBuiltServer, ServerNode, type NodeStatus } from './helpers/cluster.js';
import { waitFor } from './helpers/poll.js';

let root: string;
let nodes: ServerNode[] = [];

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-server-quickstart-'));
  const ports = await freePorts(3);
  const specs = ports.map((port, i) => ({ id: `n${i + 1}`, port }));
  const url = (p: number) => `http://127.0.0.1:${p}`;
  // Exactly start.mjs's flags: --id, --listen, --peers, --data and nothing else.
  nodes = specs.map((n) => {
    const peers = specs.filter((p) => p !== n).map((p) => `${p.id}=${url(p.port)}`).join(',');
    return new ServerNode(n.id, n.port, root, ['--id', n.id, '--listen', `127.0.0.1:${n.port}`, '--peers', peers, '--data', join(root, n.id)], cleanEnv());
  });
  for (const n of nodes) n.start();
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') for (const n of nodes) process.stderr.write(`\n----- ${n.id} -----\n${n.logTail()}\n`);
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => (n.running ? n.kill('SIGKILL') : null)));
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Every node's status once all three agree on one leader. */
async function agreedStatuses(): Promise<NodeStatus[]> {
  return waitFor('all three to agree on a leader', async () => {
    const all = await Promise.all(nodes.map((n) => n.status()));
    const leader = all.find((s) => s?.role === 'leader');
    return leader && all.every((s) => s?.leader === leader.id) ? (all as NodeStatus[]) : null;
  }, { timeoutMs: 20_000 });
}

test("the quick start's PUT on the first node and GET on the second work whichever node leads", async () => {
  await agreedStatuses();
  const [first, second] = nodes;
  // curl -X PUT http://127.0.0.1:7001/v1/kv/greeting -H 'content-type: application/json' -d '"hello"'
  // (curl does not follow redirects without -L: neither does fetch with redirect: 'manual')
  const put = await fetch(`${first!.url}/v1/kv/greeting`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"hello"', redirect: 'manual' });
  expect(put.status, await put.clone().text()).toBe(200);
  expect(await put.json()).toMatchObject({ revision: expect.any(Number) });
  // curl http://127.0.0.1:7002/v1/kv/greeting
  const got = await fetch(`${second!.url}/v1/kv/greeting`, { redirect: 'manual' });
  expect(got.status).toBe(200);
  expect(await got.json()).toMatchObject({ key: 'greeting', value: 'hello' });
});

test('a follower takes the write itself (200, not 307), whichever follower it is', async () => {
  const statuses = await agreedStatuses();
  const followers = nodes.filter((_, i) => statuses[i]!.role !== 'leader');
  expect(followers).toHaveLength(2);
  for (const f of followers) {
    const put = await fetch(`${f.url}/v1/kv/greeting`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(`hello from ${f.id}`), redirect: 'manual' });
    expect(put.status, `PUT on follower ${f.id}`).toBe(200);
    const got = await fetch(`${nodes.find((n) => n !== f)!.url}/v1/kv/greeting`);
    expect(await got.json()).toMatchObject({ value: `hello from ${f.id}` });
  }
});

test("GET /v1/status names the leader's URL on every node, the leader itself included", async () => {
  const statuses = await agreedStatuses();
  const leaderIndex = statuses.findIndex((s) => s.role === 'leader');
  const leaderUrl = nodes[leaderIndex]!.url;
  expect(statuses.map((s) => s.leaderUrl)).toEqual([leaderUrl, leaderUrl, leaderUrl]);
});
