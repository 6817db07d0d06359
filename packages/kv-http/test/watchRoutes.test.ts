import http from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './cluster.js';
import { openStream, parseFrame, until, type Frame } from './sse.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (r: Response): Promise<any> => r.json();
const put = (b: unknown) => ({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
const post = (b: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });

/** The events among `frames`, as `revision type key id?`. */
const brief = (f: Frame) => `${f.data.revision} ${f.event} ${f.data.key}${f.id !== undefined ? ` id=${f.id}` : ''}`;

describe('GET /v1/watch (Server-Sent Events)', () => {
  let c: Cluster;
  const url = (id: string, path: string) => c.urls.get(id)! + path;
  beforeAll(async () => {
    c = await startCluster(() => express(), { watchHeartbeatMs: 100 });
    await c.leader();
  });
  afterAll(() => c.close());

  it('streams the changes in order, served by the follower itself; the id only on the last event of a revision', async () => {
    const s = await openStream(url('b', '/v1/watch?prefix=o/'));
    expect(s.response.status).toBe(200);
    expect(s.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(s.response.headers.get('cache-control')).toBe('no-cache');
    expect(s.response.headers.get('x-raftkit-forwarded-to')).toBeNull();
    expect(c.replicas.get('b')!.machine.watcherCount).toBe(1);
    const p1 = await body(await fetch(url('a', '/v1/kv/o/1'), put('one')));
    const t = await body(await fetch(url('a', '/v1/txn'), post({ success: [{ op: 'put', key: 'o/2', value: { two: 2 } }, { op: 'put', key: 'o/3', value: { base64: 'AAE=' } }, { op: 'delete', key: 'o/1' }] })));
    const p2 = await body(await fetch(url('a', '/v1/kv/o/2'), { method: 'DELETE' }));
    const frames = [];
    for (let i = 0; i < 5; i++) frames.push(await s.nextEvent());
    s.close();
    expect(frames.map(brief)).toEqual([
      `${p1.revision} put o/1 id=${p1.revision}`,
      `${t.revision} put o/2`,
      `${t.revision} put o/3`,
      `${t.revision} delete o/1 id=${t.revision}`,
      `${p2.revision} delete o/2 id=${p2.revision}`,
    ]);
    expect(frames[0]!.data).toEqual({ key: 'o/1', revision: p1.revision, createRevision: p1.revision, modRevision: p1.revision, version: 1, lease: 0, value: 'one', encoding: 'json' });
    expect(frames[2]!.data).toMatchObject({ value: 'AAE=', encoding: 'base64' });
    expect(frames[3]!.data).toEqual({ key: 'o/1', revision: t.revision, createRevision: 0, modRevision: t.revision, version: 0, lease: 0 });
    expect(frames[0]!.raw).toBe(`event: put\ndata: ${JSON.stringify(frames[0]!.data)}\nid: ${p1.revision}\n`);
  });

  it('fromRevision replays the history; prevValue adds the previous value; Last-Event-ID resumes after it; fromRevision wins over it', async () => {
    const r1 = await body(await fetch(url('a', '/v1/kv/h/k'), put(1)));
    const r2 = await body(await fetch(url('a', '/v1/kv/h/k'), put(2)));
    const r3 = await body(await fetch(url('a', '/v1/kv/h/k'), put(new Array(3).fill('x'))));
    const replay = await openStream(url('c', `/v1/watch?key=h/k&fromRevision=${r1.revision}&prevValue=true`));
    const evs = [await replay.nextEvent(), await replay.nextEvent(), await replay.nextEvent()];
    replay.close();
    expect(evs.map((f) => [f.data.revision, f.data.value, f.data.prevValue])).toEqual([[r1.revision, 1, undefined], [r2.revision, 2, 1], [r3.revision, ['x', 'x', 'x'], 2]]);
    expect(evs[2]!.data.prevEncoding).toBe('json');
    const resumed = await openStream(url('b', '/v1/watch?key=h/k'), { 'last-event-id': String(r2.revision) });
    expect((await resumed.nextEvent()).data.revision).toBe(r3.revision);
    resumed.close();
    const both = await openStream(url('b', `/v1/watch?key=h/k&fromRevision=${r1.revision}`), { 'last-event-id': String(r2.revision) });
    expect((await both.nextEvent()).data.revision).toBe(r1.revision);
    both.close();
  });

  it('an idle stream gets a `: ping` comment every watchHeartbeatMs', async () => {
    const t0 = Date.now();
    const s = await openStream(url('a', '/v1/watch?key=idle'));
    const first = await s.next();
    expect(first.comments[0]).toContain('watching');
    const ping = await s.next(2000);
    expect(ping).toMatchObject({ event: '', comments: ['ping'] });
    // The timer starts once the stream is open: not before one interval (100 ms; timers may fire a ms early).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    s.close();
  });

  it("the client's disconnect ends the watch on the server (watcherCount back to 0)", async () => {
    const machine = c.replicas.get('c')!.machine;
    await until(() => machine.watcherCount === 0, 5000, 'earlier watches closed');
    const s = await openStream(url('c', '/v1/watch?prefix='));
    await s.next();
    expect(machine.watcherCount).toBe(1);
    s.close();
    await until(() => machine.watcherCount === 0, 5000, 'watch freed after disconnect');
  });

  it('bad queries are 400 KV_INVALID_ARGUMENT naming the parameter', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['/v1/watch', {}, 'exactly one of key or prefix'],
      ['/v1/watch?key=a&prefix=b', {}, 'exactly one of key or prefix'],
      ['/v1/watch?key=a&key=b', {}, 'give key once'],
      ['/v1/watch?key=a&fromRevision=0', {}, 'fromRevision must be an integer >= 1'],
      ['/v1/watch?key=a&fromRevision=abc', {}, 'fromRevision must be an integer >= 1'],
      ['/v1/watch?key=a&prevValue=yes', {}, 'prevValue must be true or false'],
      ['/v1/watch?key=a&consistency=eventual', {}, 'consistency must be'],
      ['/v1/watch?key=a', { 'last-event-id': 'x' }, 'Last-Event-ID'],
      ['/v1/watch?key=', {}, 'key'],
    ];
    for (const [path, headers, message] of cases) {
      const res = await fetch(url('a', path), { headers });
      const e = (await body(res)).error;
      expect({ status: res.status, code: e.code }, path).toEqual({ status: 400, code: 'KV_INVALID_ARGUMENT' });
      expect(e.message, path).toContain(message);
    }
    expect((await fetch(url('a', '/v1/watch?key=a'), { method: 'POST' })).status).toBe(405);
    expect((await fetch(url('a', '/v1/watch?key=a'), { method: 'HEAD' })).status).toBe(405);
  });
});

describe('GET /v1/watch errors (short history, tiny queues)', () => {
  let c: Cluster;
  const url = (id: string, path: string) => c.urls.get(id)! + path;
  beforeAll(async () => {
    c = await startCluster(() => express(), {}, { kv: { watchHistory: 3, watchMaxQueued: 4 } });
    await c.leader();
  });
  afterAll(() => c.close());

  it('a start older than the history is a plain 410 KV_COMPACTED naming the oldest revision', async () => {
    const revs: number[] = [];
    for (let i = 0; i < 6; i++) revs.push((await body(await fetch(url('a', '/v1/kv/c/k'), put(i)))).revision);
    const res = await fetch(url('a', `/v1/watch?key=c/k&fromRevision=${revs[0]}`));
    expect(res.status).toBe(410);
    expect(res.headers.get('content-type')).toContain('application/json');
    const e = (await body(res)).error;
    expect(e).toMatchObject({ code: 'KV_COMPACTED', oldestRevision: revs[2]! + 1 });
    expect(c.replicas.get('a')!.machine.watcherCount).toBe(0);
  });

  it('a consumer too slow to read ends with `event: error` KV_WATCH_OVERFLOW after what was delivered, then the stream ends', async () => {
    const machine = c.replicas.get('a')!.machine;
    const { port } = new URL(c.urls.get('a')!);
    // A raw client that stops reading: the server's socket buffer fills and the watch queue grows.
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/v1/watch?prefix=big/', headers: { accept: 'text/event-stream' } }, resolve).on('error', reject);
    });
    expect(res.statusCode).toBe(200);
    res.pause();
    await until(() => machine.watcherCount === 1, 5000, 'watch open');
    const big = 'x'.repeat(900_000);
    let puts = 0;
    while (machine.watcherCount > 0) {
      if (++puts > 200) throw new Error('the watch never overflowed');
      await fetch(url('a', `/v1/kv/big/${puts}`), put(big));
    }
    const chunks: Buffer[] = [];
    res.on('data', (d: Buffer) => chunks.push(d));
    res.resume();
    await new Promise((r) => res.on('end', r));
    const frames = Buffer.concat(chunks).toString('utf8').split('\n\n').filter((f) => f !== '').map((f) => parseFrame(f + '\n'));
    const events = frames.filter((f) => f.event !== '');
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data.error).toMatchObject({ code: 'KV_WATCH_OVERFLOW' });
    const puts_ = events.filter((f) => f.event === 'put');
    expect(puts_.length).toBeGreaterThan(0);
    expect(puts_.length).toBeLessThan(puts);
    // Every change up to lastRevision was delivered before the error, in order.
    expect(puts_.at(-1)!.data.revision).toBeLessThanOrEqual(last.data.error.lastRevision);
    expect(puts_.map((f) => f.data.key)).toEqual(puts_.map((_, i) => `big/${i + 1}`));
  }, 60_000);
});

describe('GET /v1/watch on a follower that installs a snapshot', () => {
  let c: Cluster;
  const url = (id: string, path: string) => c.urls.get(id)! + path;
  beforeAll(async () => {
    c = await startCluster(() => express(), {}, { snapshotEvery: 5, snapshots: { trailingEntries: 0 } });
    await c.leader();
  });
  afterAll(() => c.close());

  it('ends the running stream with `event: error` KV_COMPACTED (oldestRevision, lastRevision) once the snapshot passes it', async () => {
    const first = await body(await fetch(url('a', '/v1/kv/s/k'), put(0)));
    const s = await openStream(url('c', `/v1/watch?prefix=s/&fromRevision=${first.revision}`));
    expect((await s.nextEvent()).data.revision).toBe(first.revision);
    // Cut off, the follower falls behind a log that the leader compacts away (no trailing entries).
    c.network.isolate('c');
    for (let i = 1; i <= 12; i++) await fetch(url('a', `/v1/kv/s/k${i}`), put(i));
    const leaderSnapshot = () => c.replicas.get('a')!.node.status().snapshotIndex;
    await until(() => leaderSnapshot() > first.revision + 5, 5000, 'the leader took a snapshot');
    c.network.heal();
    const rest = await s.rest(10_000);
    const last = rest.filter((f) => f.event !== '').at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data.error).toMatchObject({ code: 'KV_COMPACTED', lastRevision: first.revision });
    expect(last.data.error.oldestRevision).toBeGreaterThan(first.revision + 1);
    expect(c.replicas.get('c')!.machine.watcherCount).toBe(0);
  }, 30_000);
});
