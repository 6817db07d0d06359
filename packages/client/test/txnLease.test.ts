// txn and leases against stand-ins of the design's routes (issue 14's HTTP section): the
// request each call sends and how it reads the answer. The real routes get their own test.
import type { Request } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RaftkitClient } from '../src/index.js';
import { stubServer } from './cluster.js';

interface Got {
  method: string;
  path: string;
  body: unknown;
  seq: string | undefined;
}
const got: Got[] = [];
const record = (req: Request) => got.push({ method: req.method, path: req.originalUrl, body: req.body, seq: req.get('x-raftkit-seq') });
let stub: Awaited<ReturnType<typeof stubServer>>;
let keepAlives = 0;

beforeAll(async () => {
  stub = await stubServer((app) => {
    app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 1 }));
    app.post('/v1/txn', (req, res) => {
      record(req);
      res.json({
        revision: 12,
        succeeded: true,
        results: [
          { op: 'put' },
          { op: 'get', value: 'YWJj', encoding: 'base64', modRevision: 12, createRevision: 10, version: 3 },
          { op: 'get', value: { value: { n: 1 }, encoding: 'json' }, modRevision: 11, createRevision: 11, version: 1 },
          { op: 'get', value: null, modRevision: null, createRevision: null, version: 0 },
          { op: 'range', entries: [{ key: 'p/1', value: 'AQI=', encoding: 'base64', modRevision: 5, createRevision: 5, version: 1, lease: 0 }], more: false },
          { op: 'delete', deleted: true },
        ],
      });
    });
    app.post('/v1/leases', (req, res) => {
      record(req);
      res.json({ revision: 20, id: 20, ttlMs: (req.body as { ttlMs: number }).ttlMs });
    });
    app.post('/v1/leases/:id/keepalive', (req, res) => {
      record(req);
      keepAlives++;
      if (req.params['id'] === '404') res.status(404).json({ error: { code: 'KV_LEASE_NOT_FOUND', message: 'no lease 404' } });
      else res.json({ id: Number(req.params['id']), ttlMs: 90 });
    });
    app.delete('/v1/leases/:id', (req, res) => {
      record(req);
      res.json({ revision: 21, revoked: true, deleted: 2 });
    });
    app.get('/v1/leases', (_req, res) => void res.json({ leases: [{ id: 20, ttlMs: 900, grantedTtlMs: 1000 }] }));
    app.get('/v1/leases/:id', (req, res) => void res.json({ id: 20, ttlMs: 800, grantedTtlMs: 1000, ...(req.query['keys'] === 'true' ? { keys: ['a', 'b'] } : {}) }));
    app.put('/v1/kv/leased', (req, res) => {
      record(req);
      res.json({ revision: 22 });
    });
  });
});
afterAll(async () => {
  await stub?.close();
});

describe('txn', () => {
  it('sends bytes as { base64 }, tags it like a write, decodes the values of every result', async () => {
    const c = new RaftkitClient({ endpoints: [stub.url] });
    const r = await c.txn({
      compare: [{ key: 'a', target: 'value', op: '==', value: new Uint8Array([1]) }, { key: 'b', target: 'version', op: '>', value: 0 }],
      success: [{ op: 'put', key: 'a', value: new Uint8Array([97, 98, 99]) }, { op: 'get', key: 'a' }, { op: 'get', key: 'j' }, { op: 'get', key: 'none' }, { op: 'range', prefix: 'p/' }, { op: 'delete', key: 'b' }],
      failure: [{ op: 'put', key: 'b', value: { n: 1 } }],
    });
    const sent = got.find((g) => g.path === '/v1/txn')!;
    expect(sent.seq).toBe('1');
    expect(sent.body).toEqual({
      compare: [{ key: 'a', target: 'value', op: '==', value: { base64: 'AQ==' } }, { key: 'b', target: 'version', op: '>', value: 0 }],
      success: [{ op: 'put', key: 'a', value: { base64: 'YWJj' } }, { op: 'get', key: 'a' }, { op: 'get', key: 'j' }, { op: 'get', key: 'none' }, { op: 'range', prefix: 'p/' }, { op: 'delete', key: 'b' }],
      failure: [{ op: 'put', key: 'b', value: { n: 1 } }],
    });
    expect(r.revision).toBe(12);
    expect(r.succeeded).toBe(true);
    const [put, bytes, json, none, range, del] = r.results;
    expect(put).toEqual({ op: 'put' });
    expect(bytes).toEqual({ op: 'get', value: new Uint8Array([97, 98, 99]), modRevision: 12, createRevision: 10, version: 3 });
    expect(json).toMatchObject({ op: 'get', value: { n: 1 } });
    expect(none).toMatchObject({ op: 'get', value: null, version: 0 });
    expect(range).toEqual({ op: 'range', more: false, entries: [{ key: 'p/1', value: new Uint8Array([1, 2]), modRevision: 5, createRevision: 5, version: 1, lease: 0 }] });
    expect(del).toEqual({ op: 'delete', deleted: true });
  });

  it('refuses a malformed txn before sending it', async () => {
    const c = new RaftkitClient({ endpoints: [stub.url] });
    await expect(c.txn({ compare: [] } as never)).rejects.toMatchObject({ code: 'CLIENT_INVALID_ARGUMENT' });
  });
});

describe('leases', () => {
  it('grant, keep-alive, revoke, list, time-to-live, and a put attached to a lease', async () => {
    const c = new RaftkitClient({ endpoints: [stub.url] });
    expect(await c.grantLease(1000)).toEqual({ revision: 20, id: 20, ttlMs: 1000 });
    expect(got.at(-1)).toMatchObject({ method: 'POST', path: '/v1/leases', body: { ttlMs: 1000 } });
    expect(await c.keepAlive(20)).toEqual({ id: 20, ttlMs: 90 });
    expect(await c.revokeLease(20)).toEqual({ revision: 21, revoked: true, deleted: 2 });
    expect(got.at(-1)).toMatchObject({ method: 'DELETE', path: '/v1/leases/20' });
    expect(await c.leases()).toEqual([{ id: 20, ttlMs: 900, grantedTtlMs: 1000 }]);
    expect(await c.timeToLive(20, { keys: true })).toEqual({ id: 20, ttlMs: 800, grantedTtlMs: 1000, keys: ['a', 'b'] });
    expect(await c.put('leased', 'v', { lease: 20 })).toEqual({ revision: 22 });
    expect(got.at(-1)).toMatchObject({ method: 'PUT', path: '/v1/kv/leased?lease=20' });
    await expect(c.keepAlive(0)).rejects.toMatchObject({ code: 'CLIENT_INVALID_ARGUMENT' });
  });

  it('keepAliveLoop renews at a third of the TTL until aborted, and rejects once the lease is gone', async () => {
    const c = new RaftkitClient({ endpoints: [stub.url] });
    const ctl = new AbortController();
    const renewals: number[] = [];
    const before = keepAlives;
    await c.keepAliveLoop(7, { signal: ctl.signal, onRenew: (r) => {
      renewals.push(r.ttlMs);
      if (renewals.length === 3) ctl.abort();
    } });
    expect(renewals).toEqual([90, 90, 90]);
    expect(keepAlives - before).toBe(3);
    await expect(c.keepAliveLoop(404, { signal: new AbortController().signal })).rejects.toMatchObject({ code: 'KV_LEASE_NOT_FOUND', status: 404 });
  });
});
