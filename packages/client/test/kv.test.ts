import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RaftkitClient, isRaftkitClientError } from '../src/index.js';
import { deadUrl, startCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.close();
});

const url = (id: string) => cluster.urls.get(id)!;

describe('KV calls against a 3-replica cluster', () => {
  it('puts, gets, ranges, deletes and CASes JSON values, through a follower', async () => {
    const c = new RaftkitClient({ endpoints: [url('b')] });
    const put = await c.put('user/1', { name: 'Ada' });
    expect(put.revision).toBeGreaterThan(0);
    await c.put('user/2', 'Grace');
    const got = await c.get('user/1');
    expect(got).toMatchObject({ key: 'user/1', value: { name: 'Ada' }, modRevision: put.revision });
    expect(got.revision).toBeGreaterThanOrEqual(put.revision);
    const r = await c.range('user/', { limit: 1 });
    expect(r.entries.map((e) => [e.key, e.value])).toEqual([['user/1', { name: 'Ada' }]]);
    expect(r.more).toBe(true);
    expect((await c.range('user/')).entries.map((e) => e.key)).toEqual(['user/1', 'user/2']);
    expect(await c.cas('lock', null, 'me')).toMatchObject({ ok: true });
    expect(await c.cas('lock', null, 'you')).toMatchObject({ ok: false, current: 'me' });
    expect(await c.delete('user/2')).toMatchObject({ deleted: true });
    expect(await c.delete('user/2')).toMatchObject({ deleted: false });
  });

  it('a missing key reads as value null with the revision it was read at', async () => {
    const c = new RaftkitClient({ endpoints: [url('c')] });
    const w = await c.put('exists', 1);
    const r = await c.get('no/such/key', { consistency: 'linearizable' });
    expect(r.value).toBeNull();
    expect(r.modRevision).toBeNull();
    expect(r.revision).toBeGreaterThanOrEqual(w.revision);
  });

  it('stores bytes as bytes and odd keys as they are', async () => {
    const c = new RaftkitClient({ endpoints: [url('a')] });
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    const key = 'bin/ä b?c#d%';
    await c.put(key, bytes);
    const got = await c.get(key);
    expect(got.value).toBeInstanceOf(Uint8Array);
    expect([...(got.value as Uint8Array)]).toEqual([...bytes]);
    expect((await c.range('bin/')).entries[0]!.key).toBe(key);
    expect(await c.cas(key, bytes, new Uint8Array([9]))).toMatchObject({ ok: true });
    expect([...((await c.get(key)).value as Uint8Array)]).toEqual([9]);
  });

  it('refusals are typed errors with the server code, status and endpoint', async () => {
    const c = new RaftkitClient({ endpoints: [url('a')] });
    const err = await c.get('k', { consistency: 'bogus' as never }).catch((e: unknown) => e);
    expect(isRaftkitClientError(err, 'KV_INVALID_ARGUMENT')).toBe(true);
    expect(err).toMatchObject({ status: 400, endpoint: url('a'), outcomeUnknown: false });
  });

  it('learns the leader from /v1/status before the first write and sends writes there', async () => {
    const c = new RaftkitClient({ endpoints: [url('b'), url('c'), url('a')] });
    const before = cluster.hits.get('a')!.filter((h) => h.startsWith('PUT')).length;
    const bHits = cluster.hits.get('b')!.filter((h) => h.startsWith('PUT')).length;
    await c.put('disc/1', 1);
    await c.put('disc/2', 2);
    expect(c.leaderUrl).toBe(url('a'));
    expect(cluster.hits.get('a')!.filter((h) => h.startsWith('PUT')).length - before).toBe(2);
    expect(cluster.hits.get('b')!.filter((h) => h.startsWith('PUT')).length).toBe(bHits);
  });

  it('moves past an endpoint nobody listens on', async () => {
    const c = new RaftkitClient({ endpoints: [await deadUrl(), url('c')], retry: { baseMs: 1, maxMs: 5 } });
    expect((await c.put('dead/1', 'x')).revision).toBeGreaterThan(0);
    expect((await c.get('dead/1')).value).toBe('x');
  });

  it('a probe of one endpoint is one attempt: its answer now', async () => {
    const dead = await deadUrl();
    const c = new RaftkitClient({ endpoints: [dead, url('b')], timeoutMs: 60_000 });
    const t0 = Date.now();
    await expect(c.health({ endpoint: dead })).rejects.toMatchObject({ code: 'CLIENT_UNAVAILABLE', endpoint: dead });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await c.status({ endpoint: url('b') })).toMatchObject({ id: 'b', leader: 'a', leaderUrl: url('a') });
    const reports = await c.probeAll((endpoint) => c.health({ endpoint }));
    expect(reports.map((r) => [r.endpoint, r.ok])).toEqual([[dead, false], [url('b'), true]]);
  });

  it('CLIENT_UNAVAILABLE when no endpoint answers', async () => {
    const c = new RaftkitClient({ endpoints: [await deadUrl(), await deadUrl()], timeoutMs: 300, retry: { baseMs: 1, maxMs: 20 } });
    const err = await c.get('k').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CLIENT_UNAVAILABLE', status: 0 });
  });
});

describe('redirect mode', () => {
  let redirecting: TestCluster;
  beforeAll(async () => {
    redirecting = await startCluster({ notLeader: 'redirect' });
  });
  afterAll(async () => {
    await redirecting?.close();
  });

  it('follows a 307 to the leader and remembers it', async () => {
    const b = redirecting.urls.get('b')!;
    const a = redirecting.urls.get('a')!;
    // /v1/status is not asked here: the client is given only b, and b's status names a, so
    // block discovery by giving a fetch that refuses /v1/status: the leader must come from the 307.
    const c = new RaftkitClient({ endpoints: [b], fetch: (u, init) => (u.endsWith('/v1/status') ? Promise.reject(new TypeError('no status')) : fetch(u, init)) });
    await c.put('redir/1', 'v');
    expect(c.leaderUrl).toBe(a);
    expect((await c.get('redir/1')).value).toBe('v');
    // The first write opened the session: b answered it with a 307, and a served it; from
    // then on the client goes to a directly.
    expect(redirecting.hits.get('b')).toContain('POST /v1/sessions');
    expect(redirecting.hits.get('a')).toContain('POST /v1/sessions');
    expect(redirecting.hits.get('b')).not.toContain('PUT /v1/kv/redir/1');
    expect(redirecting.hits.get('a')!.filter((h) => h === 'PUT /v1/kv/redir/1')).toHaveLength(1);
  });
});
