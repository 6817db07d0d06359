import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RaftkitClient } from '../src/index.js';
import { startCluster, stubServer, type TestCluster } from './cluster.js';
import { lossyProxy, type Seen } from './proxy.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.close();
});

const isWrite = (s: Seen) => s.method !== 'GET' && s.path !== '/v1/sessions';
const noStatus = (u: string, init: RequestInit) => (u.endsWith('/v1/status') ? Promise.reject(new TypeError('status disabled in this test')) : fetch(u, init));

describe('exactly-once writes', () => {
  it.each(['drop', '504'] as const)('a CAS whose answer is lost (%s) is retried with the same tag and applies once', async (fate) => {
    let lost = 0;
    const proxy = await lossyProxy(cluster.urls.get('a')!, (s) => (isWrite(s) && lost++ === 0 ? fate : 'pass'));
    try {
      const c = new RaftkitClient({ endpoints: [proxy.url], fetch: noStatus, retry: { baseMs: 1, maxMs: 5 } });
      const key = `once/${fate}`;
      // Applied twice, the second CAS would find the key present and answer ok: false.
      const r = await c.cas(key, null, 'mine');
      expect(r.ok).toBe(true);
      const writes = proxy.seen.filter(isWrite);
      expect(writes).toHaveLength(2);
      expect(writes[1]!.headers['x-raftkit-client-id']).toBe(writes[0]!.headers['x-raftkit-client-id']);
      expect(writes[1]!.headers['x-raftkit-seq']).toBe(writes[0]!.headers['x-raftkit-seq']);
      expect((await c.get(key)).modRevision).toBe(r.revision);
    } finally {
      await proxy.close();
    }
  });

  it('many writes in flight: each its own seq, first-outstanding never above a pending seq', async () => {
    const proxy = await lossyProxy(cluster.urls.get('a')!, (s, n) => (isWrite(s) && n % 7 === 3 ? 'drop' : 'pass'));
    try {
      const c = new RaftkitClient({ endpoints: [proxy.url], fetch: noStatus, retry: { baseMs: 1, maxMs: 5 } });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => c.cas(`many/${i}`, null, i)));
      expect(results.every((r) => r.ok)).toBe(true);
      const writes = proxy.seen.filter(isWrite);
      const seqs = new Set(writes.map((w) => Number(w.headers['x-raftkit-seq'])));
      expect(seqs.size).toBe(40);
      expect(writes.length).toBeGreaterThan(40);
      for (const w of writes) expect(Number(w.headers['x-raftkit-first-outstanding'])).toBeLessThanOrEqual(Number(w.headers['x-raftkit-seq']));
      // Once earlier writes are answered, later ones let the server forget them.
      expect(Math.max(...writes.map((w) => Number(w.headers['x-raftkit-first-outstanding'])))).toBeGreaterThan(1);
      expect(c.sessionId).toBe(Number(writes[0]!.headers['x-raftkit-client-id']));
    } finally {
      await proxy.close();
    }
    // About 0.2 s alone; a CI run with every package's tests at once on 2 cores once took over 5.
  }, 30_000);
});

describe('a lost session', () => {
  it('a write refused KV_SESSION_EXPIRED on its first attempt is sent again under a new session', async () => {
    const seen: string[] = [];
    let sessions = 0;
    const stub = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: ++sessions }));
      app.put('/v1/kv/k', (req, res) => {
        seen.push(`${req.get('x-raftkit-client-id')}/${req.get('x-raftkit-seq')}`);
        if (req.get('x-raftkit-client-id') === '1') res.status(410).json({ error: { code: 'KV_SESSION_EXPIRED', message: 'session 1 expired' } });
        else res.json({ revision: 7 });
      });
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], fetch: noStatus });
      expect(await c.put('k', 'v')).toEqual({ revision: 7 });
      expect(seen).toEqual(['1/1', '2/1']);
      expect(c.sessionId).toBe(2);
    } finally {
      await stub.close();
    }
  });

  it('a write that may already have applied under the lost session is not sent again: outcome unknown', async () => {
    let n = 0;
    const stub = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 5 }));
      app.put('/v1/kv/k', (_req, res) => {
        if (n++ === 0) res.status(504).json({ error: { code: 'RAFT_TIMEOUT', message: 'not applied within 5000 ms' } });
        else res.status(410).json({ error: { code: 'KV_SESSION_EXPIRED', message: 'session 5 expired' } });
      });
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], fetch: noStatus, retry: { baseMs: 1, maxMs: 5 } });
      const err = await c.put('k', 'v').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'KV_SESSION_EXPIRED', outcomeUnknown: true, status: 410 });
      expect(n).toBe(2);
    } finally {
      await stub.close();
    }
  });

  it('a caller that gives up while the session is being opened leaves no seq pending', async () => {
    let release!: () => void;
    const opened = new Promise<void>((r) => (release = r));
    const tags: string[] = [];
    const stub = await stubServer((app) => {
      app.post('/v1/sessions', async (_req, res) => {
        await opened;
        res.json({ clientId: 8 });
      });
      app.put('/v1/kv/k', (req, res) => {
        tags.push(`${req.get('x-raftkit-seq')}/${req.get('x-raftkit-first-outstanding')}`);
        res.json({ revision: 1 });
      });
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], fetch: noStatus });
      const ctl = new AbortController();
      const gaveUp = c.put('k', 1, { signal: ctl.signal });
      const waits = c.put('k', 2);
      ctl.abort();
      await expect(gaveUp).rejects.toMatchObject({ code: 'CLIENT_ABORTED' });
      release();
      await waits;
      await c.put('k', 3);
      // The abandoned write took no seq: the others are 1 and 2, each the first outstanding.
      expect(tags).toEqual(['1/1', '2/2']);
    } finally {
      await stub.close();
    }
  });
});
