// The real @raftkit/client against these routes. Imported from its sources by path: it is not
// a dependency of this package (adding it would change the lockfile), and it has no runtime
// dependencies of its own.
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RaftkitClient, type WatchEvent } from '../../client/src/index.js';
import { startCluster, type Cluster } from './cluster.js';
import { until } from './sse.js';

describe('@raftkit/client against kv-http', () => {
  let c: Cluster;
  let endpoints: string[];
  beforeAll(async () => {
    c = await startCluster(() => express());
    await c.leader();
    // A follower first: every write is forwarded.
    endpoints = ['b', 'a', 'c'].map((id) => c.urls.get(id)!);
  });
  afterAll(() => c.close());

  it('txn: both branches, bytes and JSON values, every result decoded', async () => {
    const kv = new RaftkitClient({ endpoints });
    const first = await kv.put('rc/a', new Uint8Array([1, 2]));
    const r = await kv.txn({
      compare: [{ key: 'rc/a', target: 'value', op: '==', value: new Uint8Array([1, 2]) }, { key: 'rc/a', target: 'modRevision', op: '==', value: first.revision }],
      success: [{ op: 'put', key: 'rc/b', value: { n: 1 } }, { op: 'get', key: 'rc/a' }, { op: 'get', key: 'rc/none' }, { op: 'range', prefix: 'rc/' }, { op: 'delete', key: 'rc/a' }],
      failure: [],
    });
    expect(r.succeeded).toBe(true);
    const [put, got, none, range, del] = r.results;
    expect(put).toEqual({ op: 'put' });
    expect(got).toEqual({ op: 'get', value: new Uint8Array([1, 2]), modRevision: first.revision, createRevision: first.revision, version: 1 });
    expect(none).toEqual({ op: 'get', value: null, modRevision: null, createRevision: null, version: 0 });
    expect(range).toMatchObject({ op: 'range', more: false, entries: [{ key: 'rc/a', value: new Uint8Array([1, 2]) }, { key: 'rc/b', value: { n: 1 }, modRevision: r.revision }] });
    expect(del).toEqual({ op: 'delete', deleted: true });
    const again = await kv.txn({ compare: [{ key: 'rc/a', target: 'exists', exists: true }], success: [], failure: [{ op: 'get', key: 'rc/b' }] });
    expect(again).toMatchObject({ succeeded: false, results: [{ op: 'get', value: { n: 1 } }] });
  });

  it('lease grant, keepAliveLoop, a leased put, time-to-live with keys, revoke', async () => {
    const kv = new RaftkitClient({ endpoints });
    const { id } = await kv.grantLease(1500);
    await kv.put('rc/leased', 'v', { lease: id });
    const ctl = new AbortController();
    const renewals: number[] = [];
    const loop = kv.keepAliveLoop(id, { signal: ctl.signal, intervalMs: 150, onRenew: (r) => {
      renewals.push(r.ttlMs);
      if (renewals.length === 15) ctl.abort();
    } });
    await loop;
    // 15 renewals 150 ms apart: the lease outlived its 1500 ms TTL, because it was kept alive.
    expect(renewals).toEqual(new Array(15).fill(1500));
    expect(await kv.timeToLive(id, { keys: true })).toMatchObject({ id, grantedTtlMs: 1500, keys: ['rc/leased'] });
    expect((await kv.leases()).map((l) => l.id)).toContain(id);
    expect(await kv.revokeLease(id)).toMatchObject({ revoked: true, deleted: 1 });
    expect((await kv.get('rc/leased')).value).toBeNull();
    await expect(kv.keepAlive(id)).rejects.toMatchObject({ code: 'KV_LEASE_NOT_FOUND', status: 404 });
  });

  it('watch: from now on, and replayed fromRevision, in order, each once', async () => {
    const kv = new RaftkitClient({ endpoints });
    const ctl = new AbortController();
    const it = kv.watch({ prefix: 'rw/', signal: ctl.signal, prevValue: true });
    const got: WatchEvent[] = [];
    const reading = (async () => {
      for await (const ev of it) {
        got.push(ev);
        if (got.length === 3) break;
      }
    })();
    // The iterator pins "now" before it connects: write once its watch is open on a node.
    const watchers = () => [...c.replicas.values()].reduce((n, r) => n + r.machine.watcherCount, 0);
    await until(() => watchers() === 1, 5000, 'the watch is open');
    const r1 = await kv.put('rw/1', 1);
    const t = await kv.txn({ compare: [], success: [{ op: 'put', key: 'rw/2', value: new Uint8Array([9]) }, { op: 'put', key: 'rw/1', value: 2 }], failure: [] });
    await reading;
    ctl.abort();
    expect(got.map((e) => [e.revision, e.type, e.key])).toEqual([[r1.revision, 'put', 'rw/1'], [t.revision, 'put', 'rw/2'], [t.revision, 'put', 'rw/1']]);
    expect(got[1]!.value).toEqual(new Uint8Array([9]));
    expect(got[2]!.prevValue).toBe(1);
    await until(() => watchers() === 0, 5000, 'the watch is closed on the server');
    const replay: WatchEvent[] = [];
    for await (const ev of kv.watch({ key: 'rw/1', fromRevision: r1.revision })) {
      replay.push(ev);
      if (replay.length === 2) break;
    }
    expect(replay.map((e) => e.value)).toEqual([1, 2]);
  });
});
