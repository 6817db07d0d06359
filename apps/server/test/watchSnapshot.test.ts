// A watch on a follower that falls behind a compacted log: its inbound peer link is cut (a
// proxy drops every request) while the leader writes and compacts its whole log
// (--snapshot-trailing 0); healed, the follower installs the leader's snapshot, which ends the
// watches it serves with `event: error` KV_COMPACTED (oldestRevision past the snapshot) once
// everything before was delivered, rather than skipping the changes the snapshot holds. After
// that the follower streams from the snapshot on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftkitClient, type WatchEvent } from '@raftkit/client';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { ServerNode, cleanEnv, fastTiming, freePorts, requireBuiltServer } from './helpers/cluster.js';
import { send } from './helpers/http.js';
import { PeerLinkProxy } from './helpers/peerLinkProxy.js';
import { waitFor } from './helpers/poll.js';
import { SseStream } from './helpers/sseStream.js';

let root: string;
let nodes: ServerNode[];
let proxy: PeerLinkProxy;
let follower: ServerNode;

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-server-watch-snapshot-'));
  const [p1, p2, p3, pp] = await freePorts(4);
  // n1 and n2 reach n3 through the proxy; n3 reaches them directly. n3 waits 20 s before it
  // campaigns, so n1 or n2 leads and n3 stays a follower while it is cut off.
  const peers = { n1: `n2=http://127.0.0.1:${p2},n3=http://127.0.0.1:${pp}`, n2: `n1=http://127.0.0.1:${p1},n3=http://127.0.0.1:${pp}`, n3: `n1=http://127.0.0.1:${p1},n2=http://127.0.0.1:${p2}` };
  const ports = { n1: p1!, n2: p2!, n3: p3! };
  proxy = new PeerLinkProxy(p3!);
  await proxy.listen(pp!);
  nodes = (['n1', 'n2', 'n3'] as const).map((id) => {
    const args = ['--id', id, '--listen', `127.0.0.1:${ports[id]}`, '--peers', peers[id], '--data', join(root, id), ...fastTiming, '--snapshot-trailing', '0', ...(id === 'n3' ? ['--election-ticks', '1000'] : [])];
    return new ServerNode(id, ports[id], root, args, cleanEnv());
  });
  for (const n of nodes) n.start();
  follower = nodes[2]!;
});

afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  for (const n of nodes) process.stderr.write(`\n----- ${n.id} (${n.url}) log tail -----\n${n.logTail(40)}\n`);
});

afterAll(async () => {
  await Promise.all((nodes ?? []).map((n) => n.kill('SIGKILL').catch(() => undefined)));
  await proxy?.close();
  if (root && !process.env['KEEP_TEST_DATA']) rmSync(root, { recursive: true, force: true });
});

test('a follower that installs a snapshot while it streams a watch ends it with event: error KV_COMPACTED, then streams from the snapshot on', async () => {
  const leader = await waitFor('n1 or n2 to lead, followed by n3', async () => {
    const s = await follower.status();
    return s?.leader === 'n1' || s?.leader === 'n2' ? nodes.find((n) => n.id === s.leader)! : null;
  }, { timeoutMs: 20_000 });
  const client = new RaftkitClient({ endpoints: [leader.url] });
  const a = await client.put('snap/a', 1);
  await waitFor('n3 to apply snap/a', async () => ((await follower.status())?.appliedIndex ?? 0) >= a.revision);

  const raw = await SseStream.open(`${follower.url}/v1/watch?prefix=snap/&fromRevision=${a.revision}`);
  if (!(raw instanceof SseStream)) throw new Error(`watch on n3: ${raw.status} ${JSON.stringify(raw.json)}`);
  const ctl = new AbortController();
  const events: WatchEvent[] = [];
  let failure: unknown;
  const watching = (async () => {
    try {
      for await (const ev of new RaftkitClient({ endpoints: [follower.url] }).watch({ prefix: 'snap/', fromRevision: a.revision, signal: ctl.signal })) events.push(ev);
    } catch (err) {
      failure = err;
    }
  })();
  await raw.waitEvents(1);
  await waitFor('the client watch to deliver snap/a', () => events.length === 1);

  proxy.cut = true;
  const b = await client.put('snap/b', 2);
  await client.delete('snap/a');
  const snap = await send(`${leader.url}/v1/snapshot`, { method: 'POST' });
  expect(snap.status, snap.text).toBe(200);
  expect(snap.json.index).toBeGreaterThan(b.revision);
  // Cut off, n3 has applied none of it.
  expect((await follower.status())!.appliedIndex).toBeLessThan(b.revision);
  expect(raw.events).toHaveLength(1);
  proxy.cut = false;

  await raw.waitEnd(20_000);
  expect(proxy.dropped).toBeGreaterThan(0);
  expect(raw.events.map((f) => f.event)).toEqual(['put', 'error']);
  expect(JSON.parse(raw.events[0]!.data)).toMatchObject({ key: 'snap/a', revision: a.revision });
  const error = JSON.parse(raw.events[1]!.data);
  expect(error).toMatchObject({ error: { code: 'KV_COMPACTED', message: expect.stringContaining('snapshot'), oldestRevision: snap.json.index + 1 } });
  await waitFor('the client watch to end', () => failure !== undefined);
  expect(failure).toMatchObject({ code: 'KV_COMPACTED', details: { oldestRevision: snap.json.index + 1 } });
  expect(events.map((e) => e.key)).toEqual(['snap/a']);
  ctl.abort();
  await watching;

  // n3 now holds the snapshot's state and streams what comes after it.
  expect((await send(`${follower.url}/v1/kv/snap/b?consistency=stale`)).json).toMatchObject({ value: 2, modRevision: b.revision });
  const after = await SseStream.open(`${follower.url}/v1/watch?prefix=snap/&fromRevision=${snap.json.index + 1}`);
  if (!(after instanceof SseStream)) throw new Error(`watch on n3: ${after.status} ${JSON.stringify(after.json)}`);
  const c = await client.put('snap/c', 3);
  expect((await after.waitEvents(1)).map((f) => [f.event, JSON.parse(f.data).key, f.id])).toEqual([['put', 'snap/c', String(c.revision)]]);
  await after.close();
});
