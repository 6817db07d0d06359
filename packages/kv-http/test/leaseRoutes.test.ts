import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './cluster.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (r: Response): Promise<any> => r.json();
const post = (b?: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(b === undefined ? {} : { body: JSON.stringify(b) }) });
const put = (b: unknown) => ({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });

describe('/v1/leases', () => {
  let c: Cluster;
  const url = (id: string, path: string) => c.urls.get(id)! + path;
  beforeAll(async () => {
    c = await startCluster(() => express());
    await c.leader();
  });
  afterAll(() => c.close());

  it('grant, keep-alive, list, time-to-live with keys, and revoke deleting the attached keys', async () => {
    const g = await fetch(url('a', '/v1/leases'), post({ ttlMs: 60_000 }));
    expect(g.status).toBe(200);
    const grant = await body(g);
    expect(grant).toEqual({ revision: grant.revision, id: grant.revision, ttlMs: 60_000 });
    const id = grant.id as number;
    for (const k of ['l/b', 'l/a']) expect((await fetch(url('a', `/v1/kv/${k}?lease=${id}`), put(k))).status).toBe(200);
    const ka = await fetch(url('a', `/v1/leases/${id}/keepalive`), { method: 'POST' });
    expect(ka.status).toBe(200);
    expect(await body(ka)).toEqual({ id, ttlMs: 60_000 });
    const list = await body(await fetch(url('a', '/v1/leases')));
    const mine = list.leases.find((l: { id: number }) => l.id === id);
    expect(mine).toMatchObject({ id, grantedTtlMs: 60_000 });
    expect(mine.ttlMs).toBeGreaterThan(55_000);
    expect(mine.ttlMs).toBeLessThanOrEqual(60_000);
    expect(Number.isInteger(mine.ttlMs)).toBe(true);
    const ttl = await body(await fetch(url('a', `/v1/leases/${id}?keys=true`)));
    expect(ttl).toMatchObject({ id, grantedTtlMs: 60_000, keys: ['l/a', 'l/b'] });
    expect(Number.isInteger(ttl.ttlMs)).toBe(true);
    expect(await body(await fetch(url('a', `/v1/leases/${id}`)))).not.toHaveProperty('keys');
    const rv = await fetch(url('a', `/v1/leases/${id}`), { method: 'DELETE' });
    expect(rv.status).toBe(200);
    const revoke = await body(rv);
    expect(revoke).toEqual({ revision: revoke.revision, revoked: true, deleted: 2 });
    for (const k of ['l/a', 'l/b']) {
      const gone = await fetch(url('a', `/v1/kv/${k}`));
      expect(gone.status).toBe(404);
      expect((await body(gone)).error.revision).toBeGreaterThanOrEqual(revoke.revision);
    }
    // Revoked: not found anywhere, and a second revoke changes nothing.
    expect(await body(await fetch(url('a', `/v1/leases/${id}`), { method: 'DELETE' }))).toMatchObject({ revoked: false, deleted: 0 });
    for (const [method, path] of [['POST', `/v1/leases/${id}/keepalive`], ['GET', `/v1/leases/${id}`]] as const) {
      const res = await fetch(url('a', path), { method });
      expect(res.status, path).toBe(404);
      expect((await body(res)).error.code).toBe('KV_LEASE_NOT_FOUND');
    }
    expect((await body(await fetch(url('a', '/v1/leases')))).leases.map((l: { id: number }) => l.id)).not.toContain(id);
  });

  it('a chosen id is granted once: the same id again is 409 KV_LEASE_EXISTS; a put on a missing lease is 404', async () => {
    expect(await body(await fetch(url('a', '/v1/leases'), post({ ttlMs: 5000, id: 777 })))).toMatchObject({ id: 777, ttlMs: 5000 });
    const again = await fetch(url('a', '/v1/leases'), post({ ttlMs: 5000, id: 777 }));
    expect(again.status).toBe(409);
    expect((await body(again)).error.code).toBe('KV_LEASE_EXISTS');
    const missing = await fetch(url('a', '/v1/kv/orphan?lease=123456'), put(1));
    expect(missing.status).toBe(404);
    expect((await body(missing)).error.code).toBe('KV_LEASE_NOT_FOUND');
    expect((await fetch(url('a', '/v1/kv/orphan'))).status).toBe(404);
    await fetch(url('a', '/v1/leases/777'), { method: 'DELETE' });
  });

  it('a follower forwards grant, keep-alive, time-to-live, list and revoke to the leader; a retried grant applies once', async () => {
    const { clientId } = await body(await fetch(url('a', '/v1/sessions'), { method: 'POST' }));
    const tag = { 'x-raftkit-client-id': String(clientId), 'x-raftkit-seq': '1' };
    const g1 = await fetch(url('b', '/v1/leases'), post({ ttlMs: 30_000 }, tag));
    expect(g1.headers.get('x-raftkit-forwarded-to')).toBe(c.urls.get('a'));
    const grant = await body(g1);
    expect(await body(await fetch(url('c', '/v1/leases'), post({ ttlMs: 30_000 }, tag)))).toEqual(grant);
    const ids = (await body(await fetch(url('c', '/v1/leases')))).leases.map((l: { id: number }) => l.id);
    expect(ids.filter((x: number) => x === grant.id)).toHaveLength(1);
    const ka = await fetch(url('c', `/v1/leases/${grant.id}/keepalive`), { method: 'POST' });
    expect(ka.headers.get('x-raftkit-forwarded-to')).toBe(c.urls.get('a'));
    expect(await body(ka)).toEqual({ id: grant.id, ttlMs: 30_000 });
    expect(await body(await fetch(url('b', `/v1/leases/${grant.id}`)))).toMatchObject({ id: grant.id, grantedTtlMs: 30_000 });
    const rv = await fetch(url('b', `/v1/leases/${grant.id}`), { method: 'DELETE', headers: { ...tag, 'x-raftkit-seq': '2' } });
    expect(rv.headers.get('x-raftkit-forwarded-to')).toBe(c.urls.get('a'));
    expect(await body(rv)).toMatchObject({ revoked: true, deleted: 0 });
  });

  it('bad ids, TTLs and bodies are 400 KV_INVALID_ARGUMENT naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/leases', { ttlMs: 0 }, 'ttlMs must be a positive integer'],
      ['POST', '/v1/leases', { ttlMs: 1.5 }, 'ttlMs must be a positive integer'],
      ['POST', '/v1/leases', {}, 'ttlMs must be a positive integer'],
      ['POST', '/v1/leases', { ttlMs: 10, id: -1 }, 'id must be'],
      ['POST', '/v1/leases', { ttlMs: 10, lease: 1 }, 'unknown lease grant field "lease"'],
      ['POST', '/v1/leases', [10], 'a lease grant takes a JSON object'],
      ['POST', '/v1/leases/0/keepalive', undefined, 'the lease id in the path'],
      ['POST', '/v1/leases/abc/keepalive', undefined, 'the lease id in the path'],
      ['GET', '/v1/leases/1e3', undefined, 'the lease id in the path'],
      ['GET', '/v1/leases/5?keys=yes', undefined, 'keys must be true or false'],
      ['DELETE', '/v1/leases/-4', undefined, 'the lease id in the path'],
      ['PUT', '/v1/kv/k?lease=0', 1, 'lease must be a lease id'],
      ['PUT', '/v1/kv/k?lease=x', 1, 'lease must be a lease id'],
    ];
    for (const [method, path, b, message] of cases) {
      const res = await fetch(url('a', path), method === 'PUT' ? put(b) : { ...post(b), method });
      const e = (await body(res)).error;
      expect({ status: res.status, code: e.code }, `${method} ${path}`).toEqual({ status: 400, code: 'KV_INVALID_ARGUMENT' });
      expect(e.message, `${method} ${path}`).toContain(message);
    }
    expect((await fetch(url('a', '/v1/leases'), { method: 'PUT' })).status).toBe(405);
  });
});
