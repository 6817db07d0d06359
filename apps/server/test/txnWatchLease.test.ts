// Transactions, leases and watch on a real 3-node cluster of raftkit-server processes, through
// @raftkit/client, the built `raftkit` CLI and raw HTTP (what curl or a browser EventSource
// sees): a watcher gets exactly the committed changes while the leader is SIGKILLed under
// puts, deletes and txns; a kept-alive lease outlives its TTL across a leader kill and expires
// once nobody keeps it; the CLI's txn, lease and watch commands and their exit codes; SSE
// framing on a follower, Last-Event-ID resume and 410 KV_COMPACTED.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftkitClient, type KvValue, type WatchEvent } from '@raftkit/client';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Cluster, type ServerNode } from './helpers/cluster.js';
import { send } from './helpers/http.js';
import { sleep, waitFor } from './helpers/poll.js';
import { RaftkitProcess, requireBuiltCli, runRaftkit } from './helpers/raftkitCli.js';
import { SseStream } from './helpers/sseStream.js';
import { seededRandom } from '@raftkit/core';

let cluster: Cluster;
let endpoints = '';
let scratch = '';
beforeAll(async () => {
  requireBuiltCli();
  cluster = await Cluster.start();
  endpoints = cluster.nodes.map((n) => n.url).join(',');
  scratch = mkdtempSync(join(tmpdir(), 'raftkit-txn-watch-lease-'));
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(async () => {
  RaftkitProcess.killAll();
  await cluster?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Starts the node again and waits until it serves and has applied `index`. */
async function restart(n: ServerNode, index: number): Promise<void> {
  n.start();
  await cluster.waitHealthy(n);
  await cluster.caughtUp(n, index);
}

/** A fetch that reports each /v1/watch connection (its origin) once its answer's headers arrived. */
function watchTap(): { fetch: typeof fetch; connections: string[] } {
  const connections: string[] = [];
  return {
    connections,
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      if (String(url).includes('/v1/watch')) connections.push(new URL(String(url)).origin);
      return res;
    },
  };
}

/** Drains `client.watch(...)` into an array in the background until `stop()`. */
function collect(iter: AsyncIterable<WatchEvent>, ctl: AbortController): { events: WatchEvent[]; stop: () => Promise<void>; failed: () => unknown } {
  const events: WatchEvent[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const ev of iter) events.push(ev);
    } catch (err) {
      error = err;
    }
  })();
  return { events, failed: () => error, stop: async () => {
    ctl.abort();
    await done;
  } };
}

const line = (e: { revision: number; type: string; key: string; value?: unknown }) => `${e.revision} ${e.type} ${e.key}${e.type === 'put' ? ` ${JSON.stringify(e.value)}` : ''}`;

interface Rec {
  value: KvValue;
  version: number;
  createRevision: number;
  modRevision: number;
}
interface Change {
  type: 'put' | 'delete';
  key: string;
  value?: KvValue;
}

test('a watcher sees exactly the committed changes of its prefix while puts, deletes and txns go on through a leader SIGKILL', async () => {
  const leader = await cluster.leader();
  const termBefore = (await leader.status())!.term;
  const urls = [leader, ...cluster.nodes.filter((n) => n !== leader)].map((n) => n.url);
  const tap = watchTap();
  const ctl = new AbortController();
  // No fromRevision: the client pins "now" with a linearizable read, then streams from it.
  const watcher = collect(new RaftkitClient({ endpoints: urls, retry: { baseMs: 20, maxMs: 200 }, fetch: tap.fetch }).watch({ prefix: 'w/', signal: ctl.signal }), ctl);
  await waitFor('the watch stream to open', () => tap.connections.length > 0);

  const client = new RaftkitClient({ endpoints: urls, timeoutMs: 20_000 });
  const model = new Map<string, Rec>();
  const acks: { revision: number; changes: Change[] }[] = [];
  const WORKERS = 4;
  const OPS = 40;
  let killedAt = -1;
  const put = (key: string, value: KvValue, revision: number): Change => {
    const old = model.get(key);
    model.set(key, { value, version: (old?.version ?? 0) + 1, createRevision: old?.createRevision ?? revision, modRevision: revision });
    return { type: 'put', key, value };
  };
  const del = (key: string): Change[] => (model.delete(key) ? [{ type: 'delete', key }] : []);
  // Each worker owns its keys and runs one op at a time, so the model knows each op's effect.
  const worker = async (w: number): Promise<void> => {
    const random = seededRandom(w + 1);
    const k = (i: number) => `w/${w}/k${i}`;
    const ctr = `w/${w}/ctr`;
    for (let i = 0; i < OPS; i++) {
      if (acks.length >= 50 && killedAt < 0) {
        killedAt = acks.length;
        leader.signal('SIGKILL');
      }
      const r = random();
      const a = Math.floor(random() * 5);
      if (r < 0.45) {
        const value = { w, i };
        const { revision } = await client.put(k(a), value);
        acks.push({ revision, changes: [put(k(a), value, revision)] });
      } else if (r < 0.65) {
        const { revision, deleted } = await client.delete(k(a));
        expect(deleted, `delete ${k(a)}`).toBe(model.has(k(a)));
        acks.push({ revision, changes: del(k(a)) });
      } else {
        // A counter bumped only if its version is what this worker last saw: an increment
        // applied twice (or lost) makes the next one fail.
        const b = (a + 1 + Math.floor(random() * 4)) % 5;
        const count = (model.get(ctr)?.value as number | undefined) ?? 0;
        const t = await client.txn({
          compare: [{ key: ctr, target: 'version', op: '==', value: model.get(ctr)?.version ?? 0 }],
          success: [{ op: 'put', key: ctr, value: count + 1 }, { op: 'put', key: k(a), value: `t${i}` }, { op: 'delete', key: k(b) }, { op: 'get', key: ctr }],
          failure: [{ op: 'get', key: ctr }],
        });
        expect(t.succeeded, `txn ${i} of worker ${w}: ${JSON.stringify(t.results)}`).toBe(true);
        const changes = [put(ctr, count + 1, t.revision), put(k(a), `t${i}`, t.revision), ...del(k(b))];
        expect(t.results[3]).toMatchObject({ op: 'get', value: count + 1, modRevision: t.revision, version: model.get(ctr)!.version });
        acks.push({ revision: t.revision, changes });
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  expect(killedAt).toBeGreaterThan(0);
  expect(acks.length - killedAt, 'writes acknowledged after the kill').toBeGreaterThanOrEqual(WORKERS * OPS - 60);
  await cluster.leader({ minTerm: termBefore + 1 });

  // A sentinel last: anything delivered twice or out of place shows before it.
  const end = await client.put('w/~end', 'end');
  acks.push({ revision: end.revision, changes: [put('w/~end', 'end', end.revision)] });
  acks.sort((x, y) => x.revision - y.revision);
  const revisions = acks.map((a) => a.revision);
  expect(new Set(revisions).size, 'every acknowledged write has its own revision').toBe(revisions.length);
  const expected = acks.flatMap((a) => a.changes.map((c) => line({ ...c, revision: a.revision })));
  await waitFor(`the watcher to see the sentinel (has ${watcher.events.length} of ${expected.length} events; ${String(watcher.failed() ?? '')})`, () => watcher.events.some((e) => e.key === 'w/~end'));
  await watcher.stop();
  expect(watcher.failed()).toBeUndefined();
  expect(watcher.events.map(line)).toEqual(expected);
  // The stream was on the leader, and was reopened elsewhere when it died.
  expect(tap.connections[0]).toBe(leader.url);
  expect(tap.connections.length).toBeGreaterThanOrEqual(2);
  expect(tap.connections.slice(1)).not.toContain(leader.url);

  // The events carry the keys' records; replayed, they give the final state.
  const replay = new Map<string, KvValue>();
  for (const e of watcher.events) {
    if (e.type === 'put') {
      expect(e.modRevision).toBe(e.revision);
      expect(e.lease).toBe(0);
      replay.set(e.key, e.value!);
    } else replay.delete(e.key);
  }
  const final = await client.range('w/', { limit: 10_000 });
  expect(final.more).toBe(false);
  expect(new Map(final.entries.map((e) => [e.key, e.value]))).toEqual(replay);
  // Each key's version counts the acknowledged puts since its creation: none applied twice.
  // (GET /v1/kv answers no version; a txn's range does.)
  const records = await client.txn({ compare: [], success: [{ op: 'range', prefix: 'w/' }], failure: [] });
  const ranged = records.results[0]!;
  if (ranged.op !== 'range') throw new Error(`a range result, got ${ranged.op}`);
  expect(ranged.entries.map((e) => [e.key, e.value, e.version, e.createRevision, e.modRevision])).toEqual(
    [...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, r]) => [key, r.value, r.version, r.createRevision, r.modRevision]),
  );
  await restart(leader, end.revision);
});

test('a lease kept alive by keepAliveLoop outlives its TTL across a leader SIGKILL, expires once nobody keeps it (the watcher sees the deletes); revoke deletes at once', async () => {
  const TTL = 3000;
  const client = new RaftkitClient({ endpoints: cluster.nodes.map((n) => n.url), timeoutMs: 20_000 });
  const grant = await client.grantLease(TTL);
  expect(grant).toMatchObject({ ttlMs: TTL, id: expect.any(Number), revision: expect.any(Number) });
  const ctl = new AbortController();
  const watcher = collect(client.watch({ prefix: 'l/', fromRevision: grant.revision + 1, signal: ctl.signal }), ctl);
  const a = await client.put('l/a', 'A', { lease: grant.id });
  const b = await client.put('l/b', 'B', { lease: grant.id });
  const c = await client.txn({ compare: [], success: [{ op: 'put', key: 'l/c', value: 'C', lease: grant.id }], failure: [] });
  expect((await client.timeToLive(grant.id, { keys: true })).keys?.sort()).toEqual(['l/a', 'l/b', 'l/c']);

  const renewals: { at: number; ttlMs: number }[] = [];
  const keeping = new AbortController();
  // Each renewal may retry for what is left of the TTL (3000 - 500 ms): enough for a failover.
  let loopError: unknown;
  const loop = client.keepAliveLoop(grant.id, { signal: keeping.signal, intervalMs: 500, onRenew: (r) => renewals.push({ at: Date.now(), ttlMs: r.ttlMs }) }).catch((err: unknown) => {
    loopError = err;
  });
  await waitFor('a first renewal', () => renewals.length > 0);
  const leader = await cluster.leader();
  const termBefore = (await leader.status())!.term;
  leader.signal('SIGKILL');
  await leader.exit();
  await cluster.leader({ minTerm: termBefore + 1 });
  const newLeaderAt = Date.now();
  // The new leader gives the lease its TTL and an election timeout (500 ms here) from its
  // election: held a second past that, it was kept alive through the new leader.
  const holdUntil = newLeaderAt + TTL + 500 + 1000;
  for (let samples = 0; Date.now() < holdUntil || renewals.filter((r) => r.at > newLeaderAt).length < 3; samples++) {
    if (loopError !== undefined || samples > 200) throw new Error(`the keep-alive loop stopped renewing: ${String(loopError)}`);
    const held = await client.range('l/');
    expect(held.entries.map((e) => e.key), `keys held ${Date.now() - newLeaderAt} ms after the new leader`).toEqual(['l/a', 'l/b', 'l/c']);
    await sleep(100);
  }
  expect(renewals.every((r) => r.ttlMs === TTL)).toBe(true);

  keeping.abort();
  await loop;
  expect(loopError).toBeUndefined();
  const lastRenewal = renewals.at(-1)!.at;
  const gone = await waitFor('the leased keys to expire', async () => ((await client.range('l/')).entries.length === 0 ? Date.now() : null), { timeoutMs: TTL + 5000 });
  // Never before its TTL since the last renewal (less the renewal's trip back to this process).
  expect(gone - lastRenewal).toBeGreaterThanOrEqual(TTL - 300);
  await expect(client.keepAlive(grant.id)).rejects.toMatchObject({ code: 'KV_LEASE_NOT_FOUND', status: 404 });
  await expect(client.timeToLive(grant.id)).rejects.toMatchObject({ code: 'KV_LEASE_NOT_FOUND', status: 404 });
  expect((await client.leases()).map((l) => l.id)).not.toContain(grant.id);

  // Revoke: at once, every attached key at one revision; a second revoke changes nothing.
  const id = 4242;
  expect(await client.grantLease(60_000, { id })).toMatchObject({ id, ttlMs: 60_000 });
  await expect(client.grantLease(60_000, { id })).rejects.toMatchObject({ code: 'KV_LEASE_EXISTS', status: 409 });
  await client.put('l/r1', 1, { lease: id });
  await client.txn({ compare: [], success: [{ op: 'put', key: 'l/r2', value: 2, lease: id }], failure: [] });
  expect((await client.leases()).find((l) => l.id === id)).toMatchObject({ grantedTtlMs: 60_000, ttlMs: expect.any(Number) });
  const revoked = await client.revokeLease(id);
  expect(revoked).toMatchObject({ revoked: true, deleted: 2 });
  expect((await client.get('l/r1')).value).toBeNull();
  expect((await client.range('l/')).entries).toEqual([]);
  expect(await client.revokeLease(id)).toMatchObject({ revoked: false, deleted: 0 });
  await expect(client.put('l/r3', 3, { lease: id })).rejects.toMatchObject({ code: 'KV_LEASE_NOT_FOUND', status: 404 });
  await expect(client.txn({ compare: [], success: [{ op: 'put', key: 'l/r3', value: 3, lease: id }], failure: [] })).rejects.toMatchObject({ code: 'KV_LEASE_NOT_FOUND', status: 404 });

  await waitFor('the watcher to see the revoke', () => watcher.events.some((e) => e.revision === revoked.revision));
  await watcher.stop();
  expect(watcher.failed()).toBeUndefined();
  const expiry = watcher.events.find((e) => e.type === 'delete')!.revision;
  // The expiry deletes all three at one revision, and the revoke both of its keys at one; the
  // order of the keys within a revision is the server's.
  const lines = watcher.events.map(line);
  expect([...lines.slice(0, 3), ...lines.slice(3, 6).sort(), ...lines.slice(6, 8), ...lines.slice(8).sort()]).toEqual([
    `${a.revision} put l/a "A"`,
    `${b.revision} put l/b "B"`,
    `${c.revision} put l/c "C"`,
    `${expiry} delete l/a`,
    `${expiry} delete l/b`,
    `${expiry} delete l/c`,
    expect.stringMatching(/^\d+ put l\/r1 1$/),
    expect.stringMatching(/^\d+ put l\/r2 2$/),
    `${revoked.revision} delete l/r1`,
    `${revoked.revision} delete l/r2`,
  ]);
  expect(watcher.events.filter((e) => e.type === 'put').map((e) => e.lease)).toEqual([grant.id, grant.id, grant.id, id, id]);
  await restart(leader, revoked.revision);
});

test('the CLI: txn from a file and from stdin, its refusals and exit codes; lease grant, list, keep-alive, revoke; unknown leases', async () => {
  const cli = (args: string[], input?: string) => runRaftkit([...args, '--endpoints', endpoints], input === undefined ? {} : { input });
  const file = join(scratch, 'txn.json');
  writeFileSync(file, JSON.stringify({
    compare: [{ key: 'cli/t', target: 'exists', exists: false }],
    success: [{ op: 'put', key: 'cli/t', value: 'one' }, { op: 'get', key: 'cli/t' }],
    failure: [{ op: 'get', key: 'cli/t' }],
  }));
  expect(await cli(['txn', file])).toEqual({ code: 0, stdout: 'SUCCEEDED\nOK\none\n', stderr: '' });
  expect(await cli(['txn', file])).toEqual({ code: 0, stdout: 'FAILED\none\n', stderr: '' });
  const swap = JSON.stringify({
    compare: [{ key: 'cli/t', target: 'value', op: '==', value: 'one' }, { key: 'cli/t', target: 'version', op: '==', value: 1 }],
    success: [{ op: 'put', key: 'cli/t', value: 'two' }, { op: 'delete', key: 'cli/none' }, { op: 'range', prefix: 'cli/t' }],
    failure: [],
  });
  expect(await cli(['txn', '-'], swap)).toEqual({ code: 0, stdout: 'SUCCEEDED\nOK\n0\ncli/t\ntwo\n', stderr: '' });
  const asJson = await cli(['txn', '--json'], swap);
  expect(asJson.code, asJson.stderr).toBe(0);
  expect(JSON.parse(asJson.stdout)).toEqual({ revision: expect.any(Number), succeeded: false, results: [] });

  // Not JSON, or not a txn: a usage error (exit 2), nothing sent.
  const notJson = await cli(['txn'], '{"compare": [');
  expect(notJson).toMatchObject({ code: 2, stdout: '' });
  expect(notJson.stderr).toMatch(/^Error: CLIENT_USAGE: the txn in stdin is not JSON/);
  expect((await cli(['txn', '-'], '[1, 2]')).stderr).toMatch(/^Error: CLIENT_USAGE: a txn is a JSON object/);
  const missing = await cli(['txn', join(scratch, 'absent.json')]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^Error: ENOENT: /);
  // JSON the server refuses (a value compared with '<'): refused, exit 1, nothing written.
  const refused = await cli(['txn'], JSON.stringify({ compare: [{ key: 'cli/t', target: 'value', op: '<', value: 'z' }], success: [{ op: 'put', key: 'cli/t', value: 'three' }], failure: [] }));
  expect(refused).toMatchObject({ code: 1, stdout: '' });
  expect(refused.stderr).toMatch(/^Error: KV_INVALID_ARGUMENT: .*compare\[0\]/);
  expect((await cli(['get', 'cli/t', '--print-value-only'])).stdout).toBe('two\n');

  const granted = await cli(['lease', 'grant', '30s']);
  expect(granted.code, granted.stderr).toBe(0);
  const id = Number(/^lease (\d+) granted with TTL 30000ms\n$/.exec(granted.stdout)?.[1]);
  expect(id).toBeGreaterThan(0);
  expect(await cli(['put', 'cli/leased', 'v', '--lease', String(id)])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
  const list = await cli(['lease', 'list']);
  expect(list.code, list.stderr).toBe(0);
  const rows = list.stdout.trim().split('\n');
  expect(rows[0]).toMatch(/^ID\s+TTL\(ms\)\s+GRANTED\(ms\)$/);
  const row = rows.slice(1).map((r) => r.split(/\s+/)).find(([x]) => x === String(id));
  expect(Number(row?.[1])).toBeGreaterThan(20_000);
  expect(row?.[2]).toBe('30000');
  expect(JSON.parse((await cli(['lease', 'list', '--json'])).stdout).leases).toContainEqual({ id, ttlMs: expect.any(Number), grantedTtlMs: 30_000 });
  expect(await cli(['lease', 'keep-alive', String(id), '--once'])).toEqual({ code: 0, stdout: `lease ${id} kept alive, TTL 30000ms\n`, stderr: '' });
  expect(await cli(['lease', 'revoke', String(id)])).toEqual({ code: 0, stdout: `lease ${id} revoked (1 keys deleted)\n`, stderr: '' });
  expect(await cli(['get', 'cli/leased'])).toEqual({ code: 0, stdout: '', stderr: '' });

  // An unknown lease: refused (exit 1) where the lease must exist; a revoke of it is a no-op.
  for (const args of [['lease', 'keep-alive', String(id), '--once'], ['put', 'cli/x', 'v', '--lease', String(id)]]) {
    const r = await cli(args);
    expect(r, args.join(' ')).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr, args.join(' ')).toMatch(/^Error: KV_LEASE_NOT_FOUND: /);
  }
  expect(await cli(['lease', 'revoke', String(id)])).toEqual({ code: 0, stdout: `lease ${id} was not there\n`, stderr: '' });
  expect((await cli(['lease', 'grant', '0'])).code).toBe(2);
  expect((await cli(['lease', 'keep-alive', 'x'])).code).toBe(2);
});

test('raftkit watch prints one line per change until SIGINT (exit 0), with --prev-value and --json; a bad --from-revision is a usage error', async () => {
  const client = new RaftkitClient({ endpoints: cluster.nodes.map((n) => n.url) });
  const from = (await client.range('cli/w/', { limit: 1 })).revision + 1;
  const help = await runRaftkit(['watch', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('usage: raftkit watch KEY [--prefix] [--from-revision N] [--prev-value]');
  const watch = new RaftkitProcess(['watch', 'cli/w/', '--prefix', '--prev-value', '--from-revision', String(from), '--endpoints', endpoints]);
  const one = await client.put('cli/w/a', 1);
  const two = await client.put('cli/w/a', 'x');
  const gone = await client.delete('cli/w/a');
  const both = await client.txn({ compare: [], success: [{ op: 'put', key: 'cli/w/b', value: 'b' }, { op: 'put', key: 'cli/w/c', value: { n: 3 } }], failure: [] });
  await client.put('cli/other', 'not watched');
  expect(await watch.waitLines(5)).toEqual([
    `${one.revision} PUT cli/w/a 1`,
    `${two.revision} PUT cli/w/a x (was 1)`,
    `${gone.revision} DELETE cli/w/a (was x)`,
    `${both.revision} PUT cli/w/b b`,
    `${both.revision} PUT cli/w/c {"n":3}`,
  ]);
  expect(await watch.stop('SIGINT')).toBe(0);
  expect(watch.lines).toHaveLength(5);
  expect(watch.stderr).toBe('');

  const json = new RaftkitProcess(['watch', 'cli/w/c', '--json', '--from-revision', String(from), '--endpoints', endpoints]);
  const [ev] = await json.waitLines(1);
  expect(JSON.parse(ev!)).toMatchObject({ type: 'put', key: 'cli/w/c', revision: both.revision, value: { n: 3 }, version: 1 });
  expect(await json.stop('SIGTERM')).toBe(0);

  const bad = await runRaftkit(['watch', 'cli/w/', '--prefix', '--from-revision', 'soon', '--endpoints', endpoints]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/^Error: CLIENT_USAGE: --from-revision must be an integer/);
});

test('raw HTTP: SSE on a follower (an id on the last event of each revision only), Last-Event-ID resume, fromRevision over Last-Event-ID, bad queries; 410 KV_COMPACTED on a node restarted from a snapshot', async () => {
  const leader = await cluster.leader();
  const follower = cluster.nodes.find((n) => n !== leader)!;
  const client = new RaftkitClient({ endpoints: [leader.url] });
  const base = (await client.range('raw/', { limit: 1 })).revision;
  const open = async (path: string, headers: Record<string, string> = {}): Promise<SseStream> => {
    const s = await SseStream.open(`${follower.url}${path}`, headers);
    if (!(s instanceof SseStream)) throw new Error(`GET ${path}: ${s.status} ${JSON.stringify(s.json)}`);
    return s;
  };
  const stream = await open(`/v1/watch?prefix=raw/&fromRevision=${base + 1}&prevValue=true`);
  expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(stream.headers.get('cache-control')).toMatch(/no-cache/);
  const t = await client.txn({ compare: [], success: [{ op: 'put', key: 'raw/a', value: 1 }, { op: 'put', key: 'raw/b', value: new Uint8Array([0, 255]) }], failure: [] });
  const p = await client.put('raw/a', 2);
  const d = await client.delete('raw/b');
  const frames = await stream.waitEvents(4);
  expect(frames.map((f) => [f.event, f.id])).toEqual([['put', undefined], ['put', String(t.revision)], ['put', String(p.revision)], ['delete', String(d.revision)]]);
  const data = frames.map((f) => JSON.parse(f.data));
  expect(data[0]).toEqual({ key: 'raw/a', revision: t.revision, createRevision: t.revision, modRevision: t.revision, version: 1, lease: 0, value: 1, encoding: 'json' });
  expect(data[1]).toMatchObject({ key: 'raw/b', revision: t.revision, value: 'AP8=', encoding: 'base64' });
  expect(data[2]).toMatchObject({ key: 'raw/a', revision: p.revision, createRevision: t.revision, modRevision: p.revision, version: 2, value: 2, prevValue: 1 });
  expect(data[3]).toMatchObject({ key: 'raw/b', revision: d.revision, prevValue: 'AP8=', prevEncoding: 'base64' });
  expect(data[3]).not.toHaveProperty('value');
  await stream.close();

  // A reconnect as a browser's EventSource makes it: Last-Event-ID alone resumes after it.
  const resumed = await open('/v1/watch?prefix=raw/', { 'last-event-id': String(t.revision) });
  const c = await client.put('raw/c', 'live');
  expect((await resumed.waitEvents(3)).map((f) => [f.event, JSON.parse(f.data).key, f.id])).toEqual([
    ['put', 'raw/a', String(p.revision)],
    ['delete', 'raw/b', String(d.revision)],
    ['put', 'raw/c', String(c.revision)],
  ]);
  await resumed.close();
  // fromRevision wins over Last-Event-ID (the client sends both).
  const pinned = await open(`/v1/watch?key=raw/b&fromRevision=${t.revision}`, { 'last-event-id': String(d.revision) });
  expect((await pinned.waitEvents(2)).map((f) => [f.event, JSON.parse(f.data).revision])).toEqual([['put', t.revision], ['delete', d.revision]]);
  await pinned.close();

  for (const q of ['', '?key=a&prefix=a', '?prefix=raw/&fromRevision=soon', '?prefix=raw/&fromRevision=0', '?key=']) {
    const r = await send(`${follower.url}/v1/watch${q}`);
    expect([r.status, r.json?.error?.code], `GET /v1/watch${q}`).toEqual([400, 'KV_INVALID_ARGUMENT']);
  }

  // History is kept in memory: a node restarted from its snapshot holds none before it.
  const snap = await send(`${follower.url}/v1/snapshot`, { method: 'POST' });
  expect(snap.status, snap.text).toBe(200);
  await follower.kill('SIGKILL');
  await restart(follower, c.revision);
  // A replay needs no leader, but the client and CLI checks below write through the cluster:
  // wait until the node is ready.
  await waitFor(`${follower.id} to be ready`, async () => (await send(`${follower.url}/readyz`)).status === 200);
  const compacted = await SseStream.open(`${follower.url}/v1/watch?prefix=raw/&fromRevision=${base + 1}`);
  expect(compacted).toEqual({ status: 410, json: { error: { code: 'KV_COMPACTED', message: expect.stringContaining('compacted'), oldestRevision: snap.json.index + 1 } } });
  const fromFollower = new RaftkitClient({ endpoints: [follower.url] });
  const it = fromFollower.watch({ prefix: 'raw/', fromRevision: base + 1 })[Symbol.asyncIterator]();
  await expect(it.next()).rejects.toMatchObject({ code: 'KV_COMPACTED', status: 410, details: { oldestRevision: snap.json.index + 1 } });
  const cli = await runRaftkit(['watch', 'raw/', '--prefix', '--from-revision', String(base + 1), '--endpoints', follower.url]);
  expect(cli).toMatchObject({ code: 1, stdout: '' });
  expect(cli.stderr).toMatch(/^Error: KV_COMPACTED: /);
  // From the oldest revision it keeps, it streams.
  const kept = await open(`/v1/watch?prefix=raw/&fromRevision=${snap.json.index + 1}`);
  const e = await client.put('raw/e', 'after');
  expect((await kept.waitEvents(1)).map((f) => JSON.parse(f.data).revision).at(-1)).toBe(e.revision);
  await kept.close();
});
