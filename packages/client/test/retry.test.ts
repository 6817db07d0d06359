import { describe, expect, it } from 'vitest';
import { RaftkitClient } from '../src/index.js';
import { backoffMs } from '../src/backoff.js';
import { deadUrl, stubServer } from './cluster.js';

const noStatus = (u: string, init: RequestInit) => (u.endsWith('/v1/status') ? Promise.reject(new TypeError('status disabled in this test')) : fetch(u, init));

describe('backoff', () => {
  it('full jitter under a cap that doubles per attempt up to maxMs', () => {
    const retry = { baseMs: 10, maxMs: 100 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffMs(a, retry, () => 0.999999))).toEqual([9, 19, 39, 79, 99, 99]);
    expect(backoffMs(3, retry, () => 0)).toBe(0);
    expect(backoffMs(2, retry, () => 0.5)).toBe(20);
  });

  it('retries what is safe to retry (503 RAFT_NOT_LEADER, 503 SERVER_OVERLOADED) and stops on a fix (400)', async () => {
    let n = 0;
    const stub = await stubServer((app) => {
      app.get('/v1/kv/k', (_req, res) => {
        n++;
        if (n === 1) res.status(503).json({ error: { code: 'RAFT_NOT_LEADER', message: 'no leader', leader: null } });
        else if (n === 2) res.status(503).json({ error: { code: 'SERVER_OVERLOADED', message: 'busy' } });
        else res.json({ key: 'k', value: 1, encoding: 'json', revision: 3, modRevision: 2 });
      });
      app.get('/v1/kv/bad', (_req, res) => {
        n++;
        res.status(400).json({ error: { code: 'KV_INVALID_ARGUMENT', message: 'no' } });
      });
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], retry: { baseMs: 1, maxMs: 2 } });
      expect((await c.get('k')).value).toBe(1);
      expect(n).toBe(3);
      await expect(c.get('bad')).rejects.toMatchObject({ code: 'KV_INVALID_ARGUMENT', status: 400 });
      expect(n).toBe(4);
    } finally {
      await stub.close();
    }
  });

  it('a write refused with an unknown outcome is resent (with its tag) until it gets an answer', async () => {
    const tags: string[] = [];
    const stub = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 3 }));
      app.delete('/v1/kv/k', (req, res) => {
        tags.push(`${req.get('x-raftkit-client-id')}/${req.get('x-raftkit-seq')}`);
        if (tags.length < 3) res.status(504).json({ error: { code: 'RAFT_TIMEOUT', message: 'slow' } });
        else res.json({ revision: 9, deleted: true });
      });
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], fetch: noStatus, retry: { baseMs: 1, maxMs: 2 } });
      expect(await c.delete('k')).toEqual({ revision: 9, deleted: true });
      expect(tags).toEqual(['3/1', '3/1', '3/1']);
    } finally {
      await stub.close();
    }
  });

  it('a deadline passed while every answer said "unknown": the last code, with outcomeUnknown', async () => {
    const stub = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 3 }));
      app.put('/v1/kv/k', (_req, res) => void res.status(504).json({ error: { code: 'SERVER_OUTCOME_UNKNOWN', message: 'leader silent' } }));
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], fetch: noStatus, timeoutMs: 100, retry: { baseMs: 5, maxMs: 10 } });
      await expect(c.put('k', 1)).rejects.toMatchObject({ code: 'SERVER_OUTCOME_UNKNOWN', outcomeUnknown: true, status: 504 });
    } finally {
      await stub.close();
    }
  });
});

describe('a dead leader named by a follower', () => {
  it('is not tried on the word of /v1/status right after a 502 SERVER_FORWARD_FAILED named it', async () => {
    const dead = await deadUrl();
    let statuses = 0;
    let puts = 0;
    const follower = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 1 }));
      // No leader known at first (the session's and the PUT's discovery); then the follower still believes in the dead one.
      app.get('/v1/status', (_req, res) => void res.json({ leaderUrl: statuses++ < 2 ? null : dead }));
      app.put('/v1/kv/k', (_req, res) => {
        if (puts++ === 0) res.status(502).json({ error: { code: 'SERVER_FORWARD_FAILED', message: 'leader unreachable', leaderUrl: dead } });
        else res.json({ revision: 4 });
      });
    });
    try {
      const sentTo: string[] = [];
      const c = new RaftkitClient({ endpoints: [follower.url], retry: { baseMs: 1, maxMs: 2 }, fetch: (u, init) => {
        sentTo.push(new URL(u).origin);
        return fetch(u, init);
      } });
      expect(await c.put('k', 1)).toEqual({ revision: 4 });
      expect(statuses).toBeGreaterThanOrEqual(3);
      expect(sentTo.filter((u) => u === dead)).toEqual([]);
    } finally {
      await follower.close();
    }
  });
});

describe('leader discovery', () => {
  it('asks every endpoint\'s /v1/status at once: a node that never answers does not hold it up', async () => {
    const leader = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 1 }));
      app.put('/v1/kv/k', (_req, res) => void res.json({ revision: 2 }));
    });
    const paused = await stubServer((app) => app.use(() => undefined));
    const follower = await stubServer((app) => app.get('/v1/status', (_req, res) => void res.json({ leaderUrl: leader.url })));
    try {
      const c = new RaftkitClient({ endpoints: [paused.url, follower.url] });
      const t0 = Date.now();
      expect(await c.put('k', 1)).toEqual({ revision: 2 });
      // One at a time, the paused node would cost its 2 s probe deadline first.
      expect(Date.now() - t0).toBeLessThan(1900);
      expect(c.leaderUrl).toBe(leader.url);
    } finally {
      await Promise.all([leader.close(), paused.close(), follower.close()]);
    }
  });
});

describe('abort and timeouts', () => {
  // A server that takes the request and never answers.
  let hits = 0;
  const stubHits = () => hits;
  const silent = () => stubServer((app) => {
    app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 1 }));
    app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
    app.use((req) => {
      if (req.method === 'PUT') hits++;
    });
  });

  it('the caller\'s signal aborts a pending call: CLIENT_ABORTED', async () => {
    const stub = await silent();
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], fetch: noStatus });
      const ctl = new AbortController();
      const p = c.get('k', { signal: ctl.signal });
      ctl.abort();
      await expect(p).rejects.toMatchObject({ code: 'CLIENT_ABORTED', outcomeUnknown: false });
      // Never sent: nothing can have applied.
      await expect(c.put('k', 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CLIENT_ABORTED', outcomeUnknown: false });
      // Sent, then aborted while the server holds it: it may apply.
      const ctl2 = new AbortController();
      const sent = c.put('k', 2, { signal: ctl2.signal });
      while (stubHits() === 0) await new Promise((r) => setTimeout(r, 5));
      ctl2.abort();
      await expect(sent).rejects.toMatchObject({ code: 'CLIENT_ABORTED', outcomeUnknown: true });
    } finally {
      await stub.close();
    }
  });

  it('a write with no answer by its deadline: CLIENT_TIMEOUT with outcomeUnknown', async () => {
    const stub = await silent();
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], fetch: noStatus, attemptTimeoutMs: 50 });
      await expect(c.put('k', 1, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'CLIENT_TIMEOUT', outcomeUnknown: true });
      await expect(c.get('k', { timeoutMs: 120 })).rejects.toMatchObject({ code: 'CLIENT_TIMEOUT', outcomeUnknown: false });
    } finally {
      await stub.close();
    }
  });

  it('connections refused until the deadline cuts a last attempt short: still CLIENT_UNAVAILABLE, not a timeout', async () => {
    let calls = 0;
    const refusedThenHanging = (_u: string, init: RequestInit): Promise<Response> => {
      calls++;
      if (calls <= 3) return Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }));
      // The next connect is still pending when the call's deadline aborts it (a loaded machine).
      return new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason), { once: true }));
    };
    const c = new RaftkitClient({ endpoints: ['http://127.0.0.1:9'], fetch: refusedThenHanging, attemptTimeoutMs: 10_000, retry: { baseMs: 1, maxMs: 2 } });
    const err = await c.get('k', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(err).toMatchObject({ code: 'CLIENT_UNAVAILABLE', outcomeUnknown: false });
    expect((err as Error).message).toMatch(/no endpoint answered within 300 ms .*last: .*unreachable \(ECONNREFUSED\)/);
    // The first attempt cut by the deadline, with nothing before it: a timeout, as before.
    const hanging = new RaftkitClient({ endpoints: ['http://127.0.0.1:9'], fetch: (_u, init) => new Promise((_, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason), { once: true })), attemptTimeoutMs: 10_000 });
    await expect(hanging.get('k', { timeoutMs: 100 })).rejects.toMatchObject({ code: 'CLIENT_TIMEOUT' });
  });
});
