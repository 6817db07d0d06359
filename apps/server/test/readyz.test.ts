// Issue 9 item 3 (readiness): a follower that was down and cannot get the snapshot it needs
// (here a proxy on its inbound peer link refuses large bodies with 413, as transport-http did for
// snapshots over 64 MiB, and cuts a streaming link at a frame that large) knows the leader and has applied all it knows committed, so the old
// /readyz said 200 while it was stuck. Now it says 503 SERVER_NOT_READY, reason LAGGING, with
// the leader's commit index and the lag, until the snapshot arrives; then 200.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ServerNode, cleanEnv, fastTiming, freePorts, requireBuiltServer, type NodeStatus } from './helpers/cluster.js';
import { getKey, putJson, send } from './helpers/http.js';
import { PeerLinkProxy } from './helpers/peerLinkProxy.js';
import { waitFor } from './helpers/poll.js';

const MAX_LAG = 5;

let root: string;
let nodes: ServerNode[];
let proxy: PeerLinkProxy;

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-server-readyz-'));
  const [p1, p2, p3, pp] = await freePorts(4);
  // n1 and n2 reach n3 through the proxy; n3 reaches them directly.
  const peers = { n1: `n2=http://127.0.0.1:${p2},n3=http://127.0.0.1:${pp}`, n2: `n1=http://127.0.0.1:${p1},n3=http://127.0.0.1:${pp}`, n3: `n1=http://127.0.0.1:${p1},n2=http://127.0.0.1:${p2}` };
  const ports = { n1: p1!, n2: p2!, n3: p3! };
  proxy = new PeerLinkProxy(p3!);
  await proxy.listen(pp!);
  nodes = (['n1', 'n2', 'n3'] as const).map((id) => {
    const args = ['--id', id, '--listen', `127.0.0.1:${ports[id]}`, '--peers', peers[id], '--data', join(root, id), ...fastTiming, '--snapshot-every', '20', '--ready-max-lag', String(MAX_LAG)];
    return new ServerNode(id, ports[id], root, args, cleanEnv());
  });
  for (const n of nodes) n.start();
});

afterAll(async () => {
  await Promise.all((nodes ?? []).map((n) => n.kill('SIGKILL').catch(() => undefined)));
  await proxy?.close();
  if (root && !process.env['KEEP_TEST_DATA']) rmSync(root, { recursive: true, force: true });
});

const statusOf = async (n: ServerNode): Promise<NodeStatus | null> => (n.running ? n.status() : null);

async function leaderOf(candidates: ServerNode[]): Promise<ServerNode> {
  return waitFor('a leader', async () => {
    for (const n of candidates) if ((await statusOf(n))?.role === 'leader') return n;
    return null;
  }, { timeoutMs: 20_000 });
}

describe('/readyz on a follower that is behind', () => {
  test('503 SERVER_NOT_READY (LAGGING, with the lag) while it cannot get the snapshot it needs, 200 once caught up', async () => {
    const n3 = nodes[2]!;
    await leaderOf(nodes);
    // n3 goes down and misses 60 writes; snapshots every 20 entries compact them away.
    await n3.kill('SIGKILL');
    const leader = await leaderOf(nodes.slice(0, 2));
    const value = 'v'.repeat(1024);
    for (let i = 0; i < 60; i++) expect((await putJson(leader.url, `k${i}`, value)).status).toBe(200);
    const commit = (await leader.status())!.commitIndex;

    // The snapshot (about 60 KiB) cannot reach n3; heartbeats and small messages can.
    proxy.refuseOver = 16 * 1024;
    n3.start();
    const answers: string[] = [];
    const lagging = await waitFor('n3 to report LAGGING', async () => {
      const r = await send(`${n3.url}/readyz`, { timeoutMs: 3000 });
      answers.push(`${r.status} ${r.json?.error?.reason ?? r.text}`);
      return r.json?.error?.reason === 'LAGGING' ? r : null;
    }, { timeoutMs: 15_000 });
    expect(answers.filter((a) => a.startsWith('200')), 'never ready while it cannot catch up').toEqual([]);
    expect(lagging.status).toBe(503);
    expect(lagging.headers.get('retry-after')).toBe('1');
    expect(lagging.json.error).toMatchObject({ code: 'SERVER_NOT_READY', reason: 'LAGGING', leader: leader.id, maxLag: MAX_LAG });
    expect(lagging.json.error.leaderCommitIndex).toBeGreaterThanOrEqual(commit);
    expect(lagging.json.error.lag).toBeGreaterThan(MAX_LAG);
    expect(lagging.json.error.message).toMatch(/behind the leader's commit index/);
    // The old readiness rule would have passed here: n3 knows the leader and has applied all it knows committed.
    const stuck = (await n3.status())!;
    expect(stuck.appliedIndex).toBeLessThan(commit - MAX_LAG);
    expect(proxy.refused).toBeGreaterThan(0);
    // Still not ready a moment later: the answer is a state, not a blip.
    for (let i = 0; i < 5; i++) expect((await send(`${n3.url}/readyz`, { timeoutMs: 3000 })).status).toBe(503);

    // The link heals: the snapshot arrives, n3 catches up and becomes ready.
    proxy.refuseOver = null;
    const ready = await waitFor('n3 to become ready', async () => {
      const r = await send(`${n3.url}/readyz`, { timeoutMs: 3000 });
      return r.status === 200 ? r.json : null;
    }, { timeoutMs: 20_000 });
    expect(ready).toEqual({ status: 'ready', leader: leader.id });
    expect((await n3.status())!.appliedIndex).toBeGreaterThanOrEqual(commit - MAX_LAG);
    // Ready allows a lag of up to MAX_LAG entries; once it has applied everything, the last write is there.
    await waitFor('n3 to apply the last write', async () => ((await n3.status())?.appliedIndex ?? 0) >= commit);
    expect((await getKey(n3.url, 'k59', 'stale')).json?.value).toBe(value);

    // Its peer link blocked altogether, the leader's answers stop reaching it: not ready again,
    // first because the leader does not confirm its commit index, then because n3 loses it.
    proxy.refuseOver = 0;
    const blocked = await waitFor('n3 to be unready with its peer link blocked', async () => {
      const r = await send(`${n3.url}/readyz`, { timeoutMs: 3000 });
      return r.status === 503 ? r : null;
    }, { timeoutMs: 10_000 });
    expect(['LEADER_UNCONFIRMED', 'NO_LEADER']).toContain(blocked.json.error.reason);
    proxy.refuseOver = null;
    // Streams are the server's default: the links to n3 were streams through the proxy, which
    // passes them through frame by frame.
    expect(proxy.streamsOpened).toBeGreaterThan(0);
  });
});
