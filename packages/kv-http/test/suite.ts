import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type ExpressFactory } from './cluster.js';

/** A JSON answer, its shape asserted by the test reading it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (r: Response): Promise<any> => r.json();

const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/**
 * The routes' behaviour, run per express major, on `app.listen` and on a server whose requests
 * and responses are born with the app's prototypes (`expressServerClasses`, `born`).
 */
export function kvRouterSuite(name: string, makeApp: ExpressFactory, born = false): void {
  describe(`createKvRouter on ${name}`, () => {
    let c: Cluster;
    let leader: string;
    let follower: string;
    beforeAll(async () => {
      c = await startCluster(makeApp, {}, {}, born);
      leader = await c.leader();
      follower = [...c.urls.keys()].find((id) => id !== leader)!;
    });
    afterAll(() => c.close());
    const url = (id: string, path: string) => c.urls.get(id)! + path;

    it('PUT, GET, list and DELETE through the leader', async () => {
      const put = await fetch(url(leader, '/v1/kv/app/x'), json({ n: 1 }));
      expect(put.status).toBe(200);
      const got = await body(await fetch(url(leader, '/v1/kv/app/x')));
      expect(got).toMatchObject({ key: 'app/x', value: { n: 1 }, encoding: 'json' });
      const list = await body(await fetch(url(leader, '/v1/kv?prefix=app/')));
      expect(list.entries.map((e: { key: string }) => e.key)).toEqual(['app/x']);
      expect((await fetch(url(leader, '/v1/kv/app/x'), { method: 'DELETE' })).status).toBe(200);
      const gone = await fetch(url(leader, '/v1/kv/app/x'));
      expect(gone.status).toBe(404);
      expect((await body(gone)).error.code).toBe('KV_NOT_FOUND');
    });

    it('a write sent to a follower is forwarded to the leader and applied once', async () => {
      const res = await fetch(url(follower, '/v1/kv/fwd'), json('v'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-raftkit-forwarded-to')).toBe(c.urls.get(leader));
      const { revision } = await body(res);
      const got = await body(await fetch(url(leader, '/v1/kv/fwd')));
      expect(got).toMatchObject({ value: 'v', modRevision: revision });
    });

    it('a retry with the same client id and seq is applied once', async () => {
      const tag = { 'x-raftkit-client-id': '77', 'x-raftkit-seq': '1' };
      const first = await body(await fetch(url(leader, '/v1/kv/once'), json(1, tag)));
      const again = await body(await fetch(url(leader, '/v1/kv/once'), json(1, tag)));
      expect(again.revision).toBe(first.revision);
      const got = await body(await fetch(url(leader, '/v1/kv/once')));
      expect(got.modRevision).toBe(first.revision);
    });

    it('GET and range report createRevision and version with modRevision', async () => {
      const a = await body(await fetch(url(leader, '/v1/kv/ver/a'), json(1)));
      const b = await body(await fetch(url(leader, '/v1/kv/ver/a'), json(2)));
      const got = await body(await fetch(url(follower, '/v1/kv/ver/a')));
      expect(got).toMatchObject({ key: 'ver/a', value: 2, modRevision: b.revision, createRevision: a.revision, version: 2 });
      const range = await body(await fetch(url(follower, '/v1/kv?prefix=ver/')));
      expect(range.entries).toEqual([{ key: 'ver/a', value: 2, encoding: 'json', modRevision: b.revision, createRevision: a.revision, version: 2 }]);
    });

    it('txn, lease and watch routes answer on this express too', async () => {
      const res = await fetch(url(leader, '/v1/txn'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ success: [{ op: 'put', key: 'sx', value: 1 }] }) });
      expect(await body(res)).toMatchObject({ succeeded: true, results: [{ op: 'put' }] });
      const grant = await body(await fetch(url(follower, '/v1/leases'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttlMs: 10_000 }) }));
      expect(grant).toMatchObject({ ttlMs: 10_000 });
      const ctl = new AbortController();
      const w = await fetch(url(follower, `/v1/watch?key=sx&fromRevision=1`), { signal: ctl.signal });
      expect(w.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const reader = w.body!.getReader();
      let text = '';
      while (!/event: put\ndata: .*\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      ctl.abort();
      expect(text).toContain(`"key":"sx"`);
    });

    it('a key is decoded as the router decodes its parameters; one that does not decode, and other methods, are answered as before', async () => {
      const put = await fetch(url(leader, '/v1/kv/enc%2Fk%C3%A9y?unused=1'), json('e'));
      expect(put.status).toBe(200);
      expect(await body(await fetch(url(leader, '/v1/kv/enc/k%C3%A9y?consistency=stale')))).toMatchObject({ key: 'enc/kéy', value: 'e' });
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const bad = await fetch(url(leader, '/v1/kv/%E0%A4%A'), { method, ...(method === 'PUT' ? { headers: { 'content-type': 'application/json' }, body: '1' } : {}) });
        expect(bad.status).toBe(400);
        expect((await body(bad)).error.code).toBe('SERVER_BAD_REQUEST');
      }
      const patch = await fetch(url(leader, '/v1/kv/k'), { method: 'PATCH' });
      expect(patch.status).toBe(405);
      expect((await body(patch)).error.code).toBe('SERVER_METHOD_NOT_ALLOWED');
      // No key: the range route's, as ever (express matches /v1/kv/ as /v1/kv).
      expect(await body(await fetch(url(leader, '/v1/kv/?prefix=enc/')))).toMatchObject({ entries: [{ key: 'enc/kéy' }] });
    });

    it('bad input gets the coded 4xx', async () => {
      const bad = await fetch(url(leader, '/v1/kv/k'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{oops' });
      expect(bad.status).toBe(400);
      expect((await body(bad)).error.code).toBe('SERVER_BAD_JSON');
      const cons = await fetch(url(leader, '/v1/kv/k?consistency=eventual'));
      expect(cons.status).toBe(400);
      expect((await body(cons)).error.code).toBe('KV_INVALID_ARGUMENT');
      const twice = await fetch(url(leader, '/v1/kv/k?consistency=lease&consistency=stale'));
      expect(twice.status).toBe(400);
      expect((await body(twice)).error.code).toBe('KV_INVALID_ARGUMENT');
      // Beside other parameters, or percent-encoded, it is still read (by the full query parser).
      for (const q of ['consistency=stale&x=1', 'x=1&consistency=stale', 'consistency=%73tale']) {
        const r = await fetch(url(leader, `/v1/kv/missing?${q}`));
        expect([q, r.status, (await body(r)).error.code]).toEqual([q, 404, 'KV_NOT_FOUND']);
      }
      const seq = await fetch(url(leader, '/v1/kv/k'), json(1, { 'x-raftkit-client-id': '1', 'x-raftkit-seq': 'zero' }));
      expect(seq.status).toBe(400);
      expect((await body(seq)).error.code).toBe('KV_INVALID_ARGUMENT');
      const key = await fetch(url(leader, '/v1/kv/' + 'k'.repeat(5000)), json(1));
      expect(key.status).toBe(400);
      expect((await body(key)).error.code).toBe('KV_INVALID_ARGUMENT');
    });
  });

  describe(`createKvRouter on ${name}, notLeader: 'redirect'`, () => {
    let c: Cluster;
    beforeAll(async () => {
      c = await startCluster(makeApp, { notLeader: 'redirect' }, {}, born);
    });
    afterAll(() => c.close());

    it("307s a follower's write to the leader's URL", async () => {
      const leader = await c.leader();
      const follower = [...c.urls.keys()].find((id) => id !== leader)!;
      const res = await fetch(c.urls.get(follower)! + '/v1/kv/r', { ...json(1), redirect: 'manual' });
      expect(res.status).toBe(307);
      expect(res.headers.get('location')).toBe(c.urls.get(leader)! + '/v1/kv/r');
    });
  });
}
