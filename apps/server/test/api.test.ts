// The client HTTP API on a real 3-node cluster: what each route answers, then a barrage of bad
// input (client API and the peer endpoint), each refused with a 4xx and a coded JSON error, after
// which the cluster still works and has lost nothing.
import { createHmac } from 'node:crypto';
import { encodeMessages } from '@raftkit/transport-http';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, type ServerNode } from './helpers/cluster.js';
import { errorCode, getKey, jsonHeaders, putJson, rangeAll, send, type Reply, type SendInit } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';
import { seededRandom } from '@raftkit/core';

const SECRET = 'api-test-secret-0123456789';
const MAX_VALUE = 1024;

let cluster: Cluster;
let leader: ServerNode;
let follower: ServerNode;
beforeAll(async () => {
  cluster = await Cluster.start({ args: ['--secret', SECRET, '--max-value-bytes', String(MAX_VALUE)] });
  leader = await cluster.leader();
  follower = cluster.nodes.find((n) => n !== leader)!;
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(() => cluster?.stop());

function ok(r: Reply, what: string): any {
  if (r.status !== 200) throw new Error(`${what}: expected 200, got ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

describe('client API', () => {
  test('JSON values of every kind round-trip, under keys with slashes and non-ASCII text', async () => {
    const values: [string, unknown][] = [
      ['api/json/object', { a: [1, 2, { b: null }], c: 'ü' }],
      ['api/json/array', [true, false, 0, -1.5, 'x']],
      ['api/json/string', 'hello'],
      ['api/json/number', 42],
      ['api/json/false', false],
      ['api/json/caf%C3%A9%2F%E2%9C%93', 'encoded'],
    ];
    for (const [key, value] of values) {
      const put = ok(await putJson(follower.url, key, value), `put ${key}`);
      const got = ok(await getKey(follower.url, key), `get ${key}`);
      expect(got).toEqual({ key: decodeURIComponent(key), value, encoding: 'json', revision: got.revision, modRevision: put.revision, createRevision: put.revision, version: 1 });
      expect(got.revision).toBeGreaterThanOrEqual(put.revision);
    }
    expect(ok(await getKey(leader.url, 'api/json/caf%C3%A9%2F%E2%9C%93'), 'get').key).toBe('api/json/café/✓');
  });

  test('bytes round-trip: base64 in JSON, raw with Accept: application/octet-stream', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const put = ok(await send(`${leader.url}/v1/kv/api/bytes`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes }), 'put bytes');
    const asJson = ok(await getKey(follower.url, 'api/bytes'), 'get bytes');
    expect(asJson).toMatchObject({ encoding: 'base64', value: Buffer.from(bytes).toString('base64'), modRevision: put.revision });
    const res = await fetch(`${follower.url}/v1/kv/api/bytes`, { headers: { accept: 'application/octet-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Number(res.headers.get('x-raftkit-revision'))).toBeGreaterThanOrEqual(put.revision);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  test('compare-and-swap, delete and 404', async () => {
    const cas = (key: string, body: unknown) => send(`${leader.url}/v1/kv/${key}/cas`, { method: 'POST', headers: jsonHeaders, body: JSON.stringify(body), follow: true });
    const won = ok(await cas('api/lock', { expected: null, value: 'owner-1' }), 'cas absent');
    expect(won).toEqual({ revision: won.revision, ok: true });
    const lost = ok(await cas('api/lock', { expected: null, value: 'owner-2' }), 'cas taken');
    expect(lost).toEqual({ revision: lost.revision, ok: false, current: { value: 'owner-1', encoding: 'json' } });
    const swapped = ok(await cas('api/lock', { expected: 'owner-1', value: 'owner-2' }), 'cas swap');
    expect(swapped.ok).toBe(true);
    const b64 = Buffer.from([0, 1, 2]).toString('base64');
    expect(ok(await cas('api/lockb', { expected: null, value: b64, encoding: 'base64' }), 'cas bytes').ok).toBe(true);
    expect(ok(await cas('api/lockb', { expected: b64, value: 'AQ==', encoding: 'base64' }), 'cas bytes swap').ok).toBe(true);
    expect(ok(await getKey(leader.url, 'api/lockb'), 'get lockb')).toMatchObject({ value: 'AQ==', encoding: 'base64' });
    expect(ok(await getKey(follower.url, 'api/lock'), 'get lock')).toMatchObject({ value: 'owner-2', modRevision: swapped.revision });

    const del = ok(await send(`${follower.url}/v1/kv/api/lock`, { method: 'DELETE', follow: true }), 'delete');
    expect(del).toEqual({ revision: del.revision, deleted: true });
    expect(ok(await send(`${leader.url}/v1/kv/api/lock`, { method: 'DELETE' }), 'delete again').deleted).toBe(false);
    const missing = await getKey(follower.url, 'api/lock');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: 'KV_NOT_FOUND', revision: expect.any(Number) });
  });

  test('range by prefix, in key order, with a limit', async () => {
    for (const k of ['c', 'a', 'b', 'd']) ok(await putJson(leader.url, `api/range/${k}`, k), `put ${k}`);
    ok(await putJson(leader.url, 'api/rangeX', 'outside'), 'put outside');
    const all = ok(await send(`${follower.url}/v1/kv?prefix=api/range/`), 'range');
    expect(all.entries.map((e: { key: string }) => e.key)).toEqual(['api/range/a', 'api/range/b', 'api/range/c', 'api/range/d']);
    expect(all.more).toBe(false);
    const page = ok(await send(`${follower.url}/v1/kv?prefix=api/range/&limit=2&consistency=stale`), 'range page');
    expect(page.entries.map((e: { value: string }) => e.value)).toEqual(['a', 'b']);
    expect(page.more).toBe(true);
  });

  test('status, health, readiness, metrics and the OpenAPI document', async () => {
    const s = ok(await send(`${follower.url}/v1/status`), 'status');
    expect(s).toMatchObject({ id: follower.id, role: 'follower', leader: leader.id, leaderUrl: leader.url, running: true });
    expect(Object.keys(s.peers).sort()).toEqual(cluster.nodes.filter((n) => n !== follower).map((n) => n.id).sort());
    const ls = ok(await send(`${leader.url}/v1/status`), 'leader status');
    for (const p of Object.values(ls.peers) as { match: number; lag: number }[]) {
      expect(p.match).toBeGreaterThan(0);
      expect(p.lag).toBeGreaterThanOrEqual(0);
    }
    expect(ok(await send(`${follower.url}/healthz`), 'healthz')).toEqual({ status: 'ok' });
    // Ready once it has applied all it knows committed, which a follower may briefly lag.
    const ready = await waitFor('the follower to be ready', async () => {
      const r = await send(`${follower.url}/readyz`);
      return r.status === 200 ? r.json : null;
    });
    expect(ready).toEqual({ status: 'ready', leader: leader.id });

    const metrics = await send(`${leader.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const name of ['raftkit_term', 'raftkit_commit_index', 'raftkit_applied_index', 'raftkit_proposals_total', 'raftkit_reads_total', 'raftkit_storage_write_seconds_bucket', 'raftkit_storage_fsync_seconds_bucket', 'raftkit_storage_handoff_seconds_bucket', 'raftkit_entries_persisted_total', 'raftkit_http_requests_total', 'raftkit_peer_replication_lag_entries', 'process_cpu_seconds_total']) {
      expect(metrics.text, name).toMatch(new RegExp(`^${name}`, 'm'));
    }
    expect(metrics.text).toMatch(/^raftkit_is_leader 1$/m);
    // The writes above were synced batches on the leader: each is split into its two parts.
    const count = (name: string): number => Number(new RegExp(`^${name}_count (\\d+)$`, 'm').exec(metrics.text)?.[1] ?? NaN);
    expect(count('raftkit_storage_fsync_seconds')).toBeGreaterThan(0);
    expect(count('raftkit_storage_handoff_seconds')).toBe(count('raftkit_storage_fsync_seconds'));
    expect((await send(`${follower.url}/metrics`)).text).toMatch(/^raftkit_is_leader 0$/m);
    expect(metrics.text).toMatch(/^raftkit_event_loop_delay_seconds_bucket\{le="0\.002"\} \d+$/m);
    // Peer messages are served ahead of express, yet their connections still count as peers
    // (both followers send to the leader; the leader sends to each follower).
    for (const n of [leader, follower]) {
      const text = (await send(`${n.url}/metrics`)).text;
      const peers = Number(/^raftkit_connections\{kind="peer"\} (\d+)$/m.exec(text)?.[1]);
      expect(peers, `${n.id}'s inbound peer connections`).toBeGreaterThanOrEqual(1);
    }

    const doc = ok(await send(`${leader.url}/v1/openapi.json`), 'openapi');
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/kv/{key}', '/v1/kv/{key}/cas', '/v1/kv', '/v1/sessions', '/v1/status', '/metrics', '/healthz', '/readyz']));
    const put = doc.paths['/v1/kv/{key}'].put.responses;
    expect(put['504'].description).toMatch(/SERVER_OUTCOME_UNKNOWN.*same session tag/);
    expect(put['502'].description).toMatch(/SERVER_FORWARD_FAILED.*did not apply/);
    expect(Object.keys(put)).toEqual(expect.arrayContaining(['400', '408', '413', '415', '503']));
  });

  test('the OpenAPI document lists exactly the routes the server mounts, each with its answers', async () => {
    // Every route the server mounts, with a request that reaches its handler and changes no
    // data (bad bodies, unknown ids); a route that is not mounted answers SERVER_NOT_FOUND.
    const probes: [method: string, template: string, path: string, init?: SendInit][] = [
      ['get', '/v1/kv/{key}', '/v1/kv/routes/absent'],
      ['put', '/v1/kv/{key}', '/v1/kv/routes/absent', { method: 'PUT', headers: jsonHeaders, body: 'null' }],
      ['delete', '/v1/kv/{key}', '/v1/kv/routes/absent', { method: 'DELETE' }],
      ['post', '/v1/kv/{key}/cas', '/v1/kv/routes/absent/cas', { method: 'POST', headers: jsonHeaders, body: '[]' }],
      ['get', '/v1/kv', '/v1/kv?prefix=routes/'],
      ['post', '/v1/txn', '/v1/txn', { method: 'POST', headers: jsonHeaders, body: '{"compare": 1}' }],
      ['post', '/v1/leases', '/v1/leases', { method: 'POST', headers: jsonHeaders, body: '{"ttlMs": 0}' }],
      ['get', '/v1/leases', '/v1/leases'],
      ['get', '/v1/leases/{id}', '/v1/leases/987654321'],
      ['delete', '/v1/leases/{id}', '/v1/leases/0', { method: 'DELETE' }],
      ['post', '/v1/leases/{id}/keepalive', '/v1/leases/987654321/keepalive', { method: 'POST' }],
      ['get', '/v1/watch', '/v1/watch?key=a&prefix=b'],
      ['post', '/v1/sessions', '/v1/sessions', { method: 'POST' }],
      ['get', '/v1/members', '/v1/members'],
      ['post', '/v1/members', '/v1/members', { method: 'POST', headers: jsonHeaders, body: '{}' }],
      ['post', '/v1/members/{id}/promote', '/v1/members/ghost/promote', { method: 'POST' }],
      ['delete', '/v1/members/{id}', '/v1/members/ghost', { method: 'DELETE' }],
      ['post', '/v1/leader/transfer', '/v1/leader/transfer', { method: 'POST', headers: jsonHeaders, body: '{"to": "ghost"}' }],
      ['post', '/v1/snapshot', '/v1/snapshot', { method: 'POST' }],
      ['get', '/v1/snapshot', '/v1/snapshot'],
      ['get', '/v1/status', '/v1/status'],
      ['get', '/v1/openapi.json', '/v1/openapi.json'],
      ['get', '/v1/dashboard', '/v1/dashboard'],
      ['get', '/v1/dashboard/members/{id}', '/v1/dashboard/members/ghost'],
      ['get', '/ui/{file}', '/ui'],
      ['post', '/raft/v1/messages', '/raft/v1/messages', { method: 'POST', body: 'unsigned' }],
      ['get', '/metrics', '/metrics'],
      ['get', '/healthz', '/healthz'],
      ['get', '/readyz', '/readyz'],
    ];
    const doc = ok(await send(`${leader.url}/v1/openapi.json`), 'openapi');
    const documented = Object.entries(doc.paths as Record<string, Record<string, { summary: string; responses: Record<string, unknown> }>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.sort()).toEqual(probes.map(([m, t]) => `${m} ${t}`).sort());
    for (const [method, template, path, init] of probes) {
      const op = doc.paths[template][method];
      expect(op.summary, `${method} ${template}`).toMatch(/\w/);
      expect(Object.keys(op.responses).some((s) => s.startsWith('2')), `${method} ${template} documents its success`).toBe(true);
      const r = await send(`${follower.url}${path}`, { ...init, timeoutMs: 5000 });
      const code = r.json?.error?.code;
      expect([r.status, code], `${method} ${path} is served`).not.toEqual([404, 'SERVER_NOT_FOUND']);
      expect(code, `${method} ${path} is served`).not.toBe('SERVER_METHOD_NOT_ALLOWED');
      // What it answered is among the statuses the document lists for it.
      expect(Object.keys(op.responses), `${method} ${template} documents status ${r.status} (${code ?? 'no code'})`).toContain(String(r.status));
    }
    // The probe can tell: a path that is not mounted is SERVER_NOT_FOUND, a method it lacks 405.
    expect(errorCode(await send(`${follower.url}/v1/transactions`))).toBe('SERVER_NOT_FOUND');
    expect(errorCode(await send(`${follower.url}/v1/txn`))).toBe('SERVER_METHOD_NOT_ALLOWED');
    // The new routes carry examples of their requests and answers.
    const example = (content: Record<string, { example?: unknown }> | undefined) => Object.values(content ?? {}).some((c) => c.example !== undefined);
    for (const [method, template] of [['post', '/v1/txn'], ['post', '/v1/leases']] as const) expect(example(doc.paths[template][method].requestBody?.content), `${method} ${template} request example`).toBe(true);
    for (const [method, template] of [['post', '/v1/txn'], ['post', '/v1/leases'], ['get', '/v1/leases'], ['get', '/v1/leases/{id}'], ['delete', '/v1/leases/{id}'], ['post', '/v1/leases/{id}/keepalive'], ['get', '/v1/watch']] as const) {
      expect(example(doc.paths[template][method].responses['200'].content), `${method} ${template} answer example`).toBe(true);
    }
    expect(doc.paths['/v1/watch'].get.responses['410'].description).toMatch(/KV_COMPACTED/);
    expect(doc.paths['/v1/leases'].post.responses['409'].content['application/json'].example.error.code).toBe('KV_LEASE_EXISTS');
    expect(doc.paths['/v1/kv/{key}'].put.parameters.map((p: { name: string }) => p.name)).toContain('lease');

    // The examples are one story, run as written: grant, txn, the lease's keys, keep-alive, revoke.
    const eg = (op: any, status = '200') => op.responses[status].content['application/json'].example;
    const post = (path: string, body: unknown) => send(`${follower.url}${path}`, { method: 'POST', headers: jsonHeaders, body: JSON.stringify(body) });
    const grantOp = doc.paths['/v1/leases'].post;
    const granted = ok(await post('/v1/leases', grantOp.requestBody.content['application/json'].example), 'example grant');
    expect(granted).toEqual({ ...eg(grantOp), revision: granted.revision });
    const txnOp = doc.paths['/v1/txn'].post;
    const txn = ok(await post('/v1/txn', txnOp.requestBody.content['application/json'].example), 'example txn');
    const r = txn.revision;
    expect(txn).toEqual({ ...eg(txnOp), revision: r, results: eg(txnOp).results.map((x: { op: string }) => (x.op === 'get' ? { ...x, modRevision: r, createRevision: r } : x)) });
    const leaseOp = doc.paths['/v1/leases/{id}'];
    const id = leaseOp.get.parameters[0].example;
    const lease = ok(await send(`${follower.url}/v1/leases/${id}?keys=true`), 'example lease');
    expect(lease).toEqual({ ...eg(leaseOp.get), ttlMs: lease.ttlMs });
    expect(lease.ttlMs).toBeLessThanOrEqual(lease.grantedTtlMs);
    expect(ok(await post(`/v1/leases/${id}/keepalive`, undefined), 'example keep-alive')).toEqual(eg(doc.paths['/v1/leases/{id}/keepalive'].post));
    const revoked = ok(await send(`${follower.url}/v1/leases/${id}`, { method: 'DELETE' }), 'example revoke');
    expect(revoked).toEqual({ ...eg(leaseOp.delete), revision: revoked.revision });
    expect(await post(`/v1/leases/${id}/keepalive`, undefined)).toMatchObject({ status: 404, json: eg(doc.paths['/v1/leases/{id}/keepalive'].post, '404') });
  });
});

/** HMAC headers as transport-http expects them (see its README); by default from a follower to the leader. */
function peerHeaders(body: Uint8Array, opts: { from?: string; to?: string; secret?: string; timestamp?: number } = {}): Record<string, string> {
  const from = encodeURIComponent(opts.from ?? follower.id);
  const to = encodeURIComponent(opts.to ?? leader.id);
  const timestamp = String(opts.timestamp ?? Date.now());
  const mac = createHmac('sha256', opts.secret ?? SECRET).update(`raftkit-v1\n${timestamp}\n${from}\n${to}\n`).update(body).digest('hex');
  return { 'content-type': 'application/vnd.raftkit.batch', 'x-raftkit-from': from, 'x-raftkit-to': to, 'x-raftkit-timestamp': timestamp, 'x-raftkit-signature': mac };
}

describe('bad input is refused with a coded 4xx, and the cluster carries on', () => {
  let baseline: Map<string, { value: unknown; modRevision: number }>;
  beforeAll(async () => {
    baseline = await rangeAll(leader.url, 'api/');
    expect(baseline.size).toBeGreaterThan(10);
  });

  const kv = (path: string) => () => `${leader.url}/v1/kv/${path}`;
  const json = (body: string, headers: Record<string, string> = {}): SendInit => ({ method: 'PUT', headers: { ...jsonHeaders, ...headers }, body });
  const key4k = 'k'.repeat(4096);
  const cases: [string, () => string, SendInit, number, string][] = [
    ['malformed JSON', kv('bad/a'), json('{"a": 1'), 400, 'SERVER_BAD_JSON'],
    ['JSON with a trailing comma', kv('bad/a'), json('[1, 2,]'), 400, 'SERVER_BAD_JSON'],
    ['random bytes declared as JSON', kv('bad/a'), json('\u0000\u00ff\u0010garbage'), 400, 'SERVER_BAD_JSON'],
    ['a JSON null value', kv('bad/a'), json('null'), 400, 'KV_INVALID_ARGUMENT'],
    ['JSON nested 100 deep', kv('bad/a'), json('['.repeat(100) + ']'.repeat(100)), 400, 'KV_INVALID_ARGUMENT'],
    ['a number JSON cannot hold', kv('bad/a'), json('1e999'), 400, 'KV_INVALID_ARGUMENT'],
    ['an unsupported JSON charset', kv('bad/a'), { method: 'PUT', headers: { 'content-type': 'application/json; charset=latin1' }, body: '1' }, 415, 'SERVER_BAD_REQUEST'],
    ['PATCH on a key', kv('bad/a'), { method: 'PATCH', headers: jsonHeaders, body: '1' }, 405, 'SERVER_METHOD_NOT_ALLOWED'],
    ['POST on a key (not /cas)', kv('bad/a'), { method: 'POST', headers: jsonHeaders, body: '1' }, 405, 'SERVER_METHOD_NOT_ALLOWED'],
    ['PUT on the range route', () => `${leader.url}/v1/kv`, json('1'), 404, 'SERVER_NOT_FOUND'],
    ['GET on /v1/sessions', () => `${leader.url}/v1/sessions`, {}, 404, 'SERVER_NOT_FOUND'],
    ['DELETE /v1/status', () => `${leader.url}/v1/status`, { method: 'DELETE' }, 404, 'SERVER_NOT_FOUND'],
    ['an unknown path', () => `${leader.url}/v2/kv/a`, {}, 404, 'SERVER_NOT_FOUND'],
    ['a key over 4 KiB (PUT)', kv(`${key4k}x`), json('1'), 400, 'KV_INVALID_ARGUMENT'],
    ['a key over 4 KiB (GET)', kv(`${key4k}x`), {}, 400, 'KV_INVALID_ARGUMENT'],
    ['a key that is not UTF-8', kv('bad/%FF'), json('1'), 400, 'SERVER_BAD_REQUEST'],
    ['bytes one over --max-value-bytes', kv('bad/big'), { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(MAX_VALUE + 1) }, 413, 'SERVER_BODY_TOO_LARGE'],
    ['a JSON value one over --max-value-bytes', kv('bad/big'), json(JSON.stringify('x'.repeat(MAX_VALUE - 1))), 413, 'SERVER_BODY_TOO_LARGE'],
    ['a body far over the limit', kv('bad/big'), { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(200 * 1024) }, 413, 'SERVER_BODY_TOO_LARGE'],
    ['a CAS value over the limit', kv('bad/big/cas'), { method: 'POST', headers: jsonHeaders, body: JSON.stringify({ expected: null, value: 'x'.repeat(MAX_VALUE) }) }, 413, 'SERVER_BODY_TOO_LARGE'],
    ['a CAS body that is not an object', kv('bad/c/cas'), { method: 'POST', headers: jsonHeaders, body: '[1]' }, 400, 'KV_INVALID_ARGUMENT'],
    ['a CAS without "expected"', kv('bad/c/cas'), { method: 'POST', headers: jsonHeaders, body: '{"value": 1}' }, 400, 'KV_INVALID_ARGUMENT'],
    ['a CAS to a null value', kv('bad/c/cas'), { method: 'POST', headers: jsonHeaders, body: '{"expected": null, "value": null}' }, 400, 'KV_INVALID_ARGUMENT'],
    ['a CAS with an unknown encoding', kv('bad/c/cas'), { method: 'POST', headers: jsonHeaders, body: '{"expected": null, "value": 1, "encoding": "hex"}' }, 400, 'KV_INVALID_ARGUMENT'],
    ['a CAS body that is not JSON', kv('bad/c/cas'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'swap please' }, 400, 'KV_INVALID_ARGUMENT'],
    ['consistency=strong (GET)', kv('api/json/string?consistency=strong'), {}, 400, 'KV_INVALID_ARGUMENT'],
    ['consistency given twice', kv('api/json/string?consistency=stale&consistency=lease'), {}, 400, 'KV_INVALID_ARGUMENT'],
    ['consistency=strong (range)', () => `${leader.url}/v1/kv?prefix=api/&consistency=strong`, {}, 400, 'KV_INVALID_ARGUMENT'],
    ['a range limit of 0', () => `${leader.url}/v1/kv?limit=0`, {}, 400, 'KV_INVALID_ARGUMENT'],
    ['a range prefix given twice', () => `${leader.url}/v1/kv?prefix=a&prefix=b`, {}, 400, 'KV_INVALID_ARGUMENT'],
    ['x-raftkit-client-id without x-raftkit-seq', kv('bad/i'), json('1', { 'x-raftkit-client-id': '1' }), 400, 'KV_INVALID_ARGUMENT'],
    ['x-raftkit-seq without x-raftkit-client-id', kv('bad/i'), json('1', { 'x-raftkit-seq': '1' }), 400, 'KV_INVALID_ARGUMENT'],
    ['x-raftkit-seq 0', kv('bad/i'), json('1', { 'x-raftkit-client-id': '1', 'x-raftkit-seq': '0' }), 400, 'KV_INVALID_ARGUMENT'],
    ['a negative x-raftkit-seq', kv('bad/i'), json('1', { 'x-raftkit-client-id': '1', 'x-raftkit-seq': '-3' }), 400, 'KV_INVALID_ARGUMENT'],
    ['a fractional x-raftkit-seq', kv('bad/i'), json('1', { 'x-raftkit-client-id': '1', 'x-raftkit-seq': '1.5' }), 400, 'KV_INVALID_ARGUMENT'],
    ['an x-raftkit-seq beyond 2^53', kv('bad/i'), json('1', { 'x-raftkit-client-id': '1', 'x-raftkit-seq': '99999999999999999999' }), 400, 'KV_INVALID_ARGUMENT'],
    ['a non-numeric x-raftkit-client-id', kv('bad/i'), json('1', { 'x-raftkit-client-id': 'me', 'x-raftkit-seq': '1' }), 400, 'KV_INVALID_ARGUMENT'],
    ['x-raftkit-first-outstanding above the seq', kv('bad/i'), json('1', { 'x-raftkit-client-id': '1', 'x-raftkit-seq': '1', 'x-raftkit-first-outstanding': '5' }), 400, 'KV_INVALID_ARGUMENT'],
    ['an unregistered session', kv('bad/i'), json('1', { 'x-raftkit-client-id': '987654321', 'x-raftkit-seq': '1' }), 410, 'KV_SESSION_UNKNOWN'],
    // Each of these was accepted (stored {} or U+FFFD or empty bytes) or crashed (500) before.
    ['JSON nested 5,000 deep (PUT)', kv('bad/deep'), json('['.repeat(5000) + ']'.repeat(5000)), 400, 'KV_INVALID_ARGUMENT'],
    ['objects nested 10,000 deep (PUT)', kv('bad/deep'), json('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)), 400, 'KV_INVALID_ARGUMENT'],
    ['a CAS value nested 5,000 deep', kv('bad/deep/cas'), { method: 'POST', headers: jsonHeaders, body: `{"expected":null,"value":${'['.repeat(5000)}${']'.repeat(5000)}}` }, 400, 'KV_INVALID_ARGUMENT'],
    ['an empty body declared as JSON', kv('bad/empty'), json(''), 400, 'SERVER_BAD_JSON'],
    ['an empty CAS body declared as JSON', kv('bad/empty/cas'), { method: 'POST', headers: jsonHeaders, body: '' }, 400, 'SERVER_BAD_JSON'],
    ['a JSON body in charset=utf-16', kv('bad/u16'), { method: 'PUT', headers: { 'content-type': 'application/json; charset=utf-16' }, body: new Uint8Array(Buffer.from('"hello"', 'utf16le')) }, 415, 'SERVER_BAD_REQUEST'],
    ['a JSON body in charset=utf-16le', kv('bad/u16'), { method: 'PUT', headers: { 'content-type': 'application/json; charset=utf-16le' }, body: new Uint8Array(Buffer.from('{"a":1}', 'utf16le')) }, 415, 'SERVER_BAD_REQUEST'],
    ['invalid UTF-8 inside a JSON string', kv('bad/utf8'), { method: 'PUT', headers: jsonHeaders, body: new Uint8Array([0x22, 0x61, 0xff, 0xfe, 0x62, 0x22]) }, 400, 'SERVER_BAD_JSON'],
    ['a lone UTF-8 continuation byte in a CAS body', kv('bad/utf8/cas'), { method: 'POST', headers: jsonHeaders, body: new Uint8Array(Buffer.concat([Buffer.from('{"expected":null,"value":"x'), Buffer.from([0x80]), Buffer.from('"}')])) }, 400, 'SERVER_BAD_JSON'],
    ['a CAS with an invalid base64 value', kv('bad/b64/cas'), { method: 'POST', headers: jsonHeaders, body: '{"expected":null,"value":"not base64!","encoding":"base64"}' }, 400, 'KV_INVALID_ARGUMENT'],
    ['a CAS with unpadded base64', kv('bad/b64/cas'), { method: 'POST', headers: jsonHeaders, body: '{"expected":null,"value":"AQ","encoding":"base64"}' }, 400, 'KV_INVALID_ARGUMENT'],
    ['a CAS with an invalid base64 "expected"', kv('bad/b64/cas'), { method: 'POST', headers: jsonHeaders, body: '{"expected":"@@@@","value":"AQ==","encoding":"base64"}' }, 400, 'KV_INVALID_ARGUMENT'],
    ['a CAS with a number as base64', kv('bad/b64/cas'), { method: 'POST', headers: jsonHeaders, body: '{"expected":null,"value":12,"encoding":"base64"}' }, 400, 'KV_INVALID_ARGUMENT'],
  ];

  test.each(cases)('%s', async (_name, url, init, status, code) => {
    const r = await send(url(), { ...init, follow: true });
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(errorCode(r)).toBe(code);
  });

  test('a session seq reused for a different operation is refused with 409 and changes nothing', async () => {
    const { clientId } = ok(await send(`${leader.url}/v1/sessions`, { method: 'POST' }), 'session');
    const tag = { 'x-raftkit-client-id': String(clientId), 'x-raftkit-seq': '1' };
    const put = ok(await putJson(leader.url, 'reuse/k', 'v', tag), 'put seq 1');
    const del = await send(`${leader.url}/v1/kv/reuse/k`, { method: 'DELETE', headers: tag });
    const cas = await send(`${leader.url}/v1/kv/reuse/k/cas`, { method: 'POST', headers: { ...jsonHeaders, ...tag }, body: '{"expected":"v","value":"w"}' });
    for (const r of [del, cas]) {
      expect(r.status).toBe(409);
      expect(errorCode(r)).toBe('KV_UNEXPECTED_RESULT');
    }
    expect(ok(await getKey(follower.url, 'reuse/k'), 'get')).toMatchObject({ value: 'v', modRevision: put.revision });
  });

  test('the limits are inclusive: a 4096-byte key and a value of exactly --max-value-bytes are accepted', async () => {
    const k = ok(await putJson(leader.url, `edge/${'k'.repeat(4091)}`, 1), '4 KiB key');
    expect(ok(await getKey(follower.url, `edge/${'k'.repeat(4091)}`), 'get 4 KiB key').modRevision).toBe(k.revision);
    ok(await send(`${leader.url}/v1/kv/edge/max-bytes`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(MAX_VALUE) }), 'max bytes');
    ok(await putJson(leader.url, 'edge/max-json', 'x'.repeat(MAX_VALUE - 2)), 'max JSON');
  });

  const peer = (headers: Record<string, string>, body: Uint8Array, method = 'POST') => send(`${leader.url}/raft/v1/messages`, { method, headers, body: method === 'GET' ? undefined : body });
  const garbage = new Uint8Array(Buffer.from('definitely not a raft batch'));

  test('unauthenticated peer calls are refused with 401', async () => {
    const refusals: [string, Promise<Reply>][] = [
      ['no auth headers', peer({ 'content-type': 'application/vnd.raftkit.batch' }, garbage)],
      ['a wrong signature', peer({ ...peerHeaders(garbage), 'x-raftkit-signature': 'ab'.repeat(32) }, garbage)],
      ['a signature with the wrong secret', peer(peerHeaders(garbage, { secret: 'not-the-cluster-secret!' }), garbage)],
      ['a signature over another body', peer(peerHeaders(new Uint8Array([1, 2, 3])), garbage)],
      ['a malformed signature', peer({ ...peerHeaders(garbage), 'x-raftkit-signature': 'xyz' }, garbage)],
      ['a timestamp two minutes old', peer(peerHeaders(garbage, { timestamp: Date.now() - 120_000 }), garbage)],
    ];
    for (const [what, reply] of refusals) {
      const r = await reply;
      expect(r.status, what).toBe(401);
      expect(errorCode(r), what).toBe('RAFT_HTTP_UNAUTHORIZED');
    }
  });

  test('other bad peer calls: wrong method, media type, sender, addressee and forged messages', async () => {
    // A well-formed message that says it is from one peer, in a request signed by another.
    const other = cluster.nodes.find((n) => n !== leader && n !== follower)!;
    const forged = encodeMessages([{ type: 'heartbeatResponse', from: other.id, to: leader.id, term: 0, context: 0 }]);
    const checks: [string, Promise<Reply>, number, string][] = [
      ['GET', peer({}, garbage, 'GET'), 405, 'RAFT_HTTP_METHOD_NOT_ALLOWED'],
      ['a wrong content type', peer({ ...peerHeaders(garbage), 'content-type': 'application/octet-stream' }, garbage), 415, 'RAFT_HTTP_UNSUPPORTED_MEDIA_TYPE'],
      ['an unknown sender', peer(peerHeaders(garbage, { from: 'mallory' }), garbage), 403, 'RAFT_HTTP_UNKNOWN_PEER'],
      ['another addressee', peer(peerHeaders(garbage, { to: 'n9' }), garbage), 421, 'RAFT_HTTP_WRONG_NODE'],
      ['a message claiming another sender', peer(peerHeaders(forged), forged), 403, 'RAFT_HTTP_UNKNOWN_PEER'],
    ];
    for (const [what, reply, status, code] of checks) {
      const r = await reply;
      expect(r.status, what).toBe(status);
      expect(errorCode(r), what).toBe(code);
    }
  });

  test('garbage bodies at the peer endpoint, correctly signed by a real peer, are refused with 400', async () => {
    const seed = Number(process.env['PEER_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`peer fuzz seed ${seed} (replay with PEER_FUZZ_SEED=${seed})`);
    const random = seededRandom(seed);
    const bodies: Uint8Array[] = [new Uint8Array(0), garbage, new Uint8Array([0x52, 0x4b]), new Uint8Array([0x52, 0x4b, 1, 0xff, 0xff, 0xff, 0xff])];
    for (let i = 0; i < 40; i++) {
      const body = Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      // Half of them look like a batch header, so decoding gets past the magic.
      if (i % 2 === 0 && body.length > 7) body.set([0x52, 0x4b, 1, 0, 0, 0, 1 + (body[3]! % 3)]);
      bodies.push(body);
    }
    for (const body of bodies) {
      const r = await peer(peerHeaders(body), body);
      expect(r.status, `body ${Buffer.from(body).toString('hex').slice(0, 40)}`).toBe(400);
      expect(errorCode(r)).toBe('RAFT_BAD_MESSAGE');
    }
  });

  test('after all of it every node still runs, writes and reads work, and nothing was lost or added', async () => {
    for (const n of cluster.nodes) {
      expect(n.running, n.id).toBe(true);
      expect((await n.status())?.running, n.id).toBe(true);
    }
    const now = await cluster.leader();
    const w = ok(await putJson(follower.url, 'after/bad-input', { fine: true }), 'write after bad input');
    expect(ok(await getKey(follower.url, 'after/bad-input'), 'read after bad input')).toMatchObject({ value: { fine: true }, modRevision: w.revision });
    expect(await rangeAll(now.url, 'api/')).toEqual(baseline);
    expect((await rangeAll(now.url, 'bad/')).size).toBe(0);
  });
});
