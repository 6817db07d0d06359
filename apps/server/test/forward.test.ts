// --follower-mode forward: a follower proxies what only the leader can do, so clients never see
// a redirect; idempotency headers and binary bodies pass through unchanged.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Cluster, type ServerNode } from './helpers/cluster.js';
import { errorCode, getKey, jsonHeaders, send, type Reply } from './helpers/http.js';

let cluster: Cluster;
let leader: ServerNode;
let followers: ServerNode[];
beforeAll(async () => {
  cluster = await Cluster.start({ args: ['--follower-mode', 'forward'] });
  leader = await cluster.leader();
  followers = cluster.nodes.filter((n) => n !== leader);
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(() => cluster?.stop());

function forwarded(r: Reply, what: string): any {
  if (r.status !== 200) throw new Error(`${what}: expected 200, got ${r.status} ${r.text.slice(0, 300)}`);
  expect(r.hops, `${what}: no redirect`).toBe(0);
  expect(r.headers.get('x-raftkit-forwarded-to'), what).toBe(leader.url);
  return r.json;
}

test('writes, CAS, deletes and sessions sent to a follower are applied by the leader, with no redirect', async () => {
  const [f1, f2] = followers;
  const put = forwarded(await send(`${f1!.url}/v1/kv/fw/a`, { method: 'PUT', headers: jsonHeaders, body: '{"via":"follower"}' }), 'put');
  expect(ok(await getKey(f2!.url, 'fw/a'))).toMatchObject({ value: { via: 'follower' }, modRevision: put.revision });
  expect(ok(await getKey(leader.url, 'fw/a', 'stale'))).toMatchObject({ modRevision: put.revision });

  const cas = forwarded(await send(`${f2!.url}/v1/kv/fw/a/cas`, { method: 'POST', headers: jsonHeaders, body: JSON.stringify({ expected: { via: 'follower' }, value: 'swapped' }) }), 'cas');
  expect(cas.ok).toBe(true);
  expect(ok(await getKey(f1!.url, 'fw/a')).value).toBe('swapped');

  const del = forwarded(await send(`${f1!.url}/v1/kv/fw/a`, { method: 'DELETE' }), 'delete');
  expect(del.deleted).toBe(true);
  expect((await getKey(f2!.url, 'fw/a')).status).toBe(404);

  const { clientId } = forwarded(await send(`${f1!.url}/v1/sessions`, { method: 'POST' }), 'session');
  const tag = { 'x-raftkit-client-id': String(clientId), 'x-raftkit-seq': '1' };
  const once = forwarded(await send(`${f1!.url}/v1/kv/fw/once`, { method: 'PUT', headers: { ...jsonHeaders, ...tag }, body: '1' }), 'tagged put');
  const again = forwarded(await send(`${f2!.url}/v1/kv/fw/once`, { method: 'PUT', headers: { ...jsonHeaders, ...tag }, body: '2' }), 'tagged put again');
  expect(again.revision).toBe(once.revision);
  expect(ok(await getKey(f2!.url, 'fw/once'))).toMatchObject({ value: 1, modRevision: once.revision });

  // Reads stay on the follower.
  const read = await getKey(f1!.url, 'fw/once');
  expect(read.headers.get('x-raftkit-forwarded-to')).toBeNull();
});

test('binary bodies are forwarded byte for byte', async () => {
  const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256);
  const put = forwarded(await send(`${followers[0]!.url}/v1/kv/fw/bytes`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes }), 'put bytes');
  const res = await fetch(`${followers[1]!.url}/v1/kv/fw/bytes`, { headers: { accept: 'application/octet-stream' } });
  expect(Number(res.headers.get('x-raftkit-revision'))).toBeGreaterThanOrEqual(put.revision);
  expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
});

test("the leader's refusals come back through the follower unchanged; bad headers are the follower's own 400", async () => {
  const f = followers[0]!;
  const tooBig = await send(`${f.url}/v1/kv/fw/big`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(2 * 1024 * 1024) });
  expect(tooBig.status).toBe(413);
  expect(errorCode(tooBig)).toBe('SERVER_BODY_TOO_LARGE');

  const unknown = await send(`${f.url}/v1/kv/fw/x`, { method: 'PUT', headers: { ...jsonHeaders, 'x-raftkit-client-id': '999999', 'x-raftkit-seq': '1' }, body: '1' });
  expect(unknown.status).toBe(410);
  expect(unknown.headers.get('x-raftkit-forwarded-to')).toBe(leader.url);
  expect(errorCode(unknown)).toBe('KV_SESSION_UNKNOWN');

  const badSeq = await send(`${f.url}/v1/kv/fw/x`, { method: 'PUT', headers: { ...jsonHeaders, 'x-raftkit-client-id': '1', 'x-raftkit-seq': 'one' }, body: '1' });
  expect(badSeq.status).toBe(400);
  expect(badSeq.headers.get('x-raftkit-forwarded-to')).toBeNull();
  expect(errorCode(badSeq)).toBe('KV_INVALID_ARGUMENT');
});

test('when the leader dies, a follower answers with a coded error until a new leader is elected, then forwards to it', async () => {
  const term = (await leader.status())!.term;
  await leader.kill('SIGKILL');
  const f = followers[0]!;
  // Right after the kill the follower still believes in the dead leader, or knows no leader.
  const during = await send(`${f.url}/v1/kv/fw/during`, { method: 'PUT', headers: jsonHeaders, body: '1' });
  // 502: the dead leader refused the connection, nothing was sent; 504: a kept-alive connection
  // took the request before it broke, so the outcome is unknown; 503: no leader known.
  const codes: Record<number, string> = { 502: 'SERVER_FORWARD_FAILED', 503: 'RAFT_NOT_LEADER', 504: 'SERVER_OUTCOME_UNKNOWN' };
  if (during.status !== 200) expect(errorCode(during)).toBe(codes[during.status]);
  const next = await cluster.leader({ minTerm: term + 1 });
  // A 502 or 503 promised the write did not apply.
  if (during.status === 502 || during.status === 503) expect((await getKey(next.url, 'fw/during')).status).toBe(404);
  leader = next;
  const other = followers.find((n) => n !== next)!;
  const after = forwarded(await send(`${other.url}/v1/kv/fw/after`, { method: 'PUT', headers: jsonHeaders, body: '"new leader"' }), 'put after failover');
  expect(ok(await getKey(next.url, 'fw/after')).modRevision).toBe(after.revision);
});

function ok(r: Reply): any {
  if (r.status !== 200) throw new Error(`expected 200, got ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}
