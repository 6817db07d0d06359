import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './cluster.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (r: Response): Promise<any> => r.json();
const post = (b: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof b === 'string' ? b : JSON.stringify(b) });
const put = (b: unknown) => ({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });

describe('POST /v1/txn', () => {
  let c: Cluster;
  const url = (id: string, path: string) => c.urls.get(id)! + path;
  beforeAll(async () => {
    c = await startCluster(() => express(), { maxValueBytes: 1000 });
    await c.leader();
  });
  afterAll(() => c.close());

  it('every compare target reaches the state machine and back: success when all hold, failure when one does not', async () => {
    const a = await body(await fetch(url('a', '/v1/kv/t/json'), put({ n: 1 })));
    const bytes = await fetch(url('a', '/v1/kv/t/bytes'), { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([1, 2, 3]) });
    const b = await body(bytes);
    const compare = [
      { key: 't/json', target: 'value', op: '==', value: { n: 1 } },
      { key: 't/json', target: 'value', op: '!=', value: { n: 2 } },
      { key: 't/bytes', target: 'value', op: '==', value: { base64: 'AQID' } },
      { key: 't/json', target: 'exists', exists: true },
      { key: 't/none', target: 'exists', exists: false },
      { key: 't/json', target: 'modRevision', op: '==', value: a.revision },
      { key: 't/bytes', target: 'createRevision', op: '>', value: a.revision },
      { key: 't/json', target: 'version', op: '<', value: 2 },
      { key: 't/bytes', target: 'version', op: '!=', value: 0 },
    ];
    const success = [
      { op: 'put', key: 't/new', value: { base64: 'YWJj' } },
      { op: 'get', key: 't/new' },
      { op: 'get', key: 't/json' },
      { op: 'get', key: 't/none' },
      { op: 'range', prefix: 't/', limit: 2 },
      { op: 'delete', key: 't/bytes' },
    ];
    const failure = [{ op: 'put', key: 't/failed', value: 'no' }];
    const res = await fetch(url('a', '/v1/txn'), post({ compare, success, failure }));
    expect(res.status).toBe(200);
    const out = await body(res);
    expect(out.succeeded).toBe(true);
    expect(out.revision).toBeGreaterThan(b.revision);
    expect(out.results).toEqual([
      { op: 'put' },
      { op: 'get', value: 'YWJj', encoding: 'base64', modRevision: out.revision, createRevision: out.revision, version: 1 },
      { op: 'get', value: { n: 1 }, encoding: 'json', modRevision: a.revision, createRevision: a.revision, version: 1 },
      { op: 'get', value: null, modRevision: null, createRevision: null, version: 0 },
      { op: 'range', more: true, entries: [
        { key: 't/bytes', value: 'AQID', encoding: 'base64', modRevision: b.revision, createRevision: b.revision, version: 1 },
        { key: 't/json', value: { n: 1 }, encoding: 'json', modRevision: a.revision, createRevision: a.revision, version: 1 },
      ] },
      { op: 'delete', deleted: true },
    ]);
    expect((await fetch(url('a', '/v1/kv/t/bytes'))).status).toBe(404);

    // Each compare alone, made false, sends the txn down the failure branch.
    const falsified = [
      { key: 't/json', target: 'value', op: '==', value: { n: 2 } },
      { key: 't/json', target: 'value', op: '!=', value: { n: 1 } },
      { key: 't/new', target: 'value', op: '==', value: { base64: 'AQID' } },
      { key: 't/json', target: 'exists', exists: false },
      { key: 't/json', target: 'modRevision', op: '>', value: a.revision },
      { key: 't/json', target: 'createRevision', op: '<', value: a.revision },
      { key: 't/json', target: 'version', op: '==', value: 7 },
    ];
    for (const cmp of falsified) {
      const r = await body(await fetch(url('a', '/v1/txn'), post({ compare: [cmp], success: [{ op: 'delete', key: 't/json' }], failure: [{ op: 'get', key: 't/json' }] })));
      expect(r, JSON.stringify(cmp)).toMatchObject({ succeeded: false, results: [{ op: 'get', value: { n: 1 } }] });
    }
  });

  it('a follower forwards a txn to the leader; a retry with the same session tag applies once', async () => {
    const { clientId } = await body(await fetch(url('a', '/v1/sessions'), { method: 'POST' }));
    const tag = { 'x-raftkit-client-id': String(clientId), 'x-raftkit-seq': '1' };
    const txn = { compare: [], success: [{ op: 'put', key: 'once', value: 1 }], failure: [] };
    const first = await fetch(url('b', '/v1/txn'), post(txn, tag));
    expect(first.status).toBe(200);
    expect(first.headers.get('x-raftkit-forwarded-to')).toBe(c.urls.get('a'));
    const r1 = await body(first);
    const r2 = await body(await fetch(url('c', '/v1/txn'), post(txn, tag)));
    expect(r2).toEqual(r1);
    const got = await body(await fetch(url('a', '/v1/kv/once')));
    expect(got).toMatchObject({ value: 1, modRevision: r1.revision });
  });

  it('POST /v1/sessions registers a session through the log, on a follower too (forwarded)', async () => {
    const onLeader = await fetch(url('a', '/v1/sessions'), { method: 'POST' });
    expect(onLeader.status).toBe(200);
    const viaFollower = await fetch(url('c', '/v1/sessions'), { method: 'POST' });
    expect(viaFollower.status).toBe(200);
    expect(viaFollower.headers.get('x-raftkit-forwarded-to')).toBe(c.urls.get('a'));
    const [x, y] = [(await body(onLeader)).clientId, (await body(viaFollower)).clientId];
    // Each id is the index of its registration entry: distinct, and usable on any node.
    expect(Number.isSafeInteger(x) && Number.isSafeInteger(y) && x !== y).toBe(true);
    const put = await fetch(url('b', '/v1/kv/with-session'), { method: 'PUT', headers: { 'content-type': 'application/json', 'x-raftkit-client-id': String(y), 'x-raftkit-seq': '1' }, body: '1' });
    expect(put.status).toBe(200);
  });

  it('a put on a missing lease is 404 KV_LEASE_NOT_FOUND and writes nothing', async () => {
    const res = await fetch(url('a', '/v1/txn'), post({ success: [{ op: 'put', key: 'leased', value: 1, lease: 987654 }] }));
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe('KV_LEASE_NOT_FOUND');
    expect((await fetch(url('a', '/v1/kv/leased'))).status).toBe(404);
  });

  it('each malformed field is a 400 KV_INVALID_ARGUMENT naming it; an oversized value is a 413', async () => {
    const cases: [unknown, string][] = [
      [[], 'the txn body must be a JSON object'],
      [{ compare: {} }, 'compare must be an array'],
      [{ success: 'x' }, 'success must be an array'],
      [{ extra: [] }, 'unknown txn field "extra"'],
      [{ compare: [1] }, 'compare[0] must be a JSON object'],
      [{ compare: [{ target: 'exists', exists: true }] }, 'compare[0].key must be a string'],
      [{ compare: [{ key: 'k', target: 'lease' }] }, 'compare[0].target must be'],
      [{ compare: [{ key: 'k', target: 'exists', exists: 'yes' }] }, 'compare[0].exists must be a boolean'],
      [{ compare: [{ key: 'k', target: 'value', op: '<', value: 1 }] }, 'compare[0].op must be "==" or "!="'],
      [{ compare: [{ key: 'k', target: 'value', op: '==' }] }, 'compare[0].value is required'],
      [{ compare: [{ key: 'k', target: 'value', op: '==', value: { base64: 'not base64!' } }] }, 'compare[0].value.base64 must be a base64 string'],
      [{ compare: [{ key: 'k', target: 'version', op: '>=', value: 1 }] }, 'compare[0].op must be "==", "!=", "<" or ">"'],
      [{ compare: [{ key: 'k', target: 'modRevision', op: '>', value: -1 }] }, 'compare[0].value must be a whole number'],
      [{ success: [{ op: 'incr', key: 'k' }] }, 'success[0].op must be put, delete, get or range'],
      [{ success: [{ op: 'get' }] }, 'success[0].key must be a string'],
      [{ failure: [{ op: 'put', key: 'k', value: null }] }, 'failure[0].value is required and cannot be null'],
      [{ failure: [{ op: 'put', key: 'k', value: 1, lease: 'x' }] }, 'failure[0].lease must be a whole number'],
      [{ success: [{ op: 'range' }] }, 'success[0].prefix must be a string'],
      [{ success: [{ op: 'range', prefix: '', limit: 0 }] }, 'success[0].limit must be a positive integer'],
      [{ success: [{ op: 'put', key: 'k', value: 1 }, { op: 'delete', key: 'k' }] }, 'more than once'],
      [{ success: [{ op: 'get', key: '' }] }, 'key'],
    ];
    for (const [b, message] of cases) {
      const res = await fetch(url('a', '/v1/txn'), post(b));
      const e = (await body(res)).error;
      expect({ status: res.status, code: e.code }, JSON.stringify(b)).toEqual({ status: 400, code: 'KV_INVALID_ARGUMENT' });
      expect(e.message, JSON.stringify(b)).toContain(message);
    }
    const notJson = await fetch(url('a', '/v1/txn'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(notJson.status).toBe(400);
    const badJson = await fetch(url('a', '/v1/txn'), post('{oops'));
    expect((await body(badJson)).error.code).toBe('SERVER_BAD_JSON');
    const big = await fetch(url('a', '/v1/txn'), post({ success: [{ op: 'put', key: 'k', value: 'x'.repeat(2000) }] }));
    expect(big.status).toBe(413);
    expect((await body(big)).error.message).toContain('success[0].value');
    const method = await fetch(url('a', '/v1/txn'));
    expect(method.status).toBe(405);
  });
});
