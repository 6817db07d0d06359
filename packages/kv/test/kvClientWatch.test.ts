import { afterEach, describe, expect, test } from 'vitest';
import { isKvError, type WatchEvent, type WatchStream } from '../src/index.js';
import { TestCluster, ok } from './helpers/cluster.js';
import type { KvStateMachineOptions } from '../src/index.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  const errors = cluster?.errors ?? [];
  await cluster?.stop();
  cluster = undefined;
  expect(errors).toEqual([]);
});

async function startCluster(kv?: KvStateMachineOptions): Promise<TestCluster> {
  cluster = new TestCluster({ size: 3, ...(kv ? { kv } : {}) });
  await cluster.start();
  await cluster.waitForLeader();
  return cluster;
}

/** The next `n` events of `w`, running virtual time until they arrive. */
async function take(c: TestCluster, w: WatchStream, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await ok(c, w.next());
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const brief = (e: WatchEvent): string => `${e.revision}:${e.type}:${e.key}${e.value === undefined ? '' : '=' + JSON.stringify(e.value)}`;

describe('KvClient.watch on a 3-replica cluster (virtual time)', () => {
  test('a linearizable watch on a follower starts after the read point: it skips what was acknowledged before the call and sees a write acknowledged right after it resolved', async () => {
    const c = await startCluster();
    const follower = c.followers()[0]!;
    const writer = c.client(c.leader()!.node.id);
    const before = await ok(c, writer.put('w/a', 'before'));
    const watch = await ok(c, c.clientOn(follower).watch({ prefix: 'w/' }));
    expect(follower.machine.watcherCount).toBe(1);
    const after = await ok(c, writer.put('w/a', 'after'));
    await ok(c, writer.delete('w/a'));
    const events = await take(c, watch, 2);
    expect(events.map(brief)).toEqual([`${after.revision}:put:w/a="after"`, `${after.revision + 1}:delete:w/a`]);
    expect(after.revision).toBeGreaterThan(before.revision);
    await watch.return();
    expect(follower.machine.watcherCount).toBe(0);
  });

  test('a write proposed while watch() is still waiting for its read point is delivered, whichever comes first', async () => {
    const c = await startCluster();
    const follower = c.followers()[0]!;
    const writer = c.client(c.leader()!.node.id);
    const opening = c.clientOn(follower).watch({ key: 'k' }, { prevValue: true });
    const put = writer.put('k', 1);
    const watch = await ok(c, opening);
    const { revision } = await ok(c, put);
    // The put was proposed after watch() began: committed after it, so the watch has it.
    const [ev] = await take(c, watch, 1);
    expect(ev).toMatchObject({ type: 'put', key: 'k', revision, value: 1, version: 1, createRevision: revision });
    await watch.return();
  });

  test('fromRevision replays the history of the serving replica, then goes live; prevValue on request', async () => {
    const c = await startCluster();
    const writer = c.client(c.leader()!.node.id);
    const first = await ok(c, writer.put('h/x', 1));
    await ok(c, writer.put('other', 0));
    await ok(c, writer.put('h/x', 2));
    await ok(c, writer.delete('h/x'));
    const follower = c.followers()[1]!;
    const watch = await ok(c, c.clientOn(follower).watch({ prefix: 'h/' }, { fromRevision: first.revision, prevValue: true }));
    const live = await ok(c, writer.put('h/y', 'live'));
    const events = await take(c, watch, 4);
    expect(events.map(brief)).toEqual([
      `${first.revision}:put:h/x=1`,
      `${first.revision + 2}:put:h/x=2`,
      `${first.revision + 3}:delete:h/x`,
      `${live.revision}:put:h/y="live"`,
    ]);
    expect(events[1]!.prevValue).toBe(1);
    expect(events[2]!.prevValue).toBe(2);
    expect(events[3]!.prevValue).toBeUndefined();
    await watch.return();
  });

  test('a replay from fromRevision needs no read point: an isolated follower serves it; without a start it cannot', async () => {
    const c = await startCluster();
    const writer = c.client(c.leader()!.node.id);
    const first = await ok(c, writer.put('iso/a', 1));
    await ok(c, writer.put('iso/a', 2));
    const follower = c.followers()[0]!;
    await c.clock.run(500);
    expect(follower.machine.revision).toBeGreaterThanOrEqual(first.revision + 1);
    c.net.isolate(follower.node.id);
    // Long enough to lose the leader: the follower's election timer fires and its pre-votes go nowhere.
    await c.clock.run(1_000);
    expect(follower.node.status().leader).toBeNull();
    const replay = await ok(c, c.clientOn(follower, { timeoutMs: 2_000 }).watch({ key: 'iso/a' }, { fromRevision: first.revision }));
    expect((await take(c, replay, 2)).map((e) => e.value)).toEqual([1, 2]);
    await replay.return();
    // Asking for a linearizable start explicitly, or giving no start, needs the leader.
    const pinned = await c.clock.settleOf(c.clientOn(follower, { timeoutMs: 2_000 }).watch({ key: 'iso/a' }));
    expect(pinned.ok).toBe(false);
    const explicit = await c.clock.settleOf(c.clientOn(follower, { timeoutMs: 2_000 }).watch({ key: 'iso/a' }, { fromRevision: first.revision, consistency: 'linearizable' }));
    expect(explicit.ok).toBe(false);
    expect(follower.machine.watcherCount).toBe(0);
    c.net.heal();
  });

  test('a fromRevision older than the history rejects with KV_COMPACTED naming the oldest revision held', async () => {
    const c = await startCluster({ watchHistory: 2 });
    const writer = c.client(c.leader()!.node.id);
    const revs: number[] = [];
    for (let i = 0; i < 5; i++) revs.push((await ok(c, writer.put('k', i))).revision);
    const r = await c.clock.settleOf(c.clientOn(c.followers()[0]!).watch({ key: 'k' }, { fromRevision: revs[0]! }));
    expect(r.ok).toBe(false);
    const err = (r as { error: unknown }).error;
    expect(isKvError(err) && err.code).toBe('KV_COMPACTED');
    // Two revisions kept: the last two puts.
    expect((err as { oldestRevision: number }).oldestRevision).toBe(revs[2]! + 1);
    const fine = await ok(c, c.clientOn(c.followers()[0]!).watch({ key: 'k' }, { fromRevision: revs[3]! }));
    expect((await take(c, fine, 2)).map((e) => e.value)).toEqual([3, 4]);
    await fine.return();
  });

  test('aborting the signal ends the watch with its reason and frees it; an aborted signal refuses at once', async () => {
    const c = await startCluster();
    const follower = c.followers()[0]!;
    const ctl = new AbortController();
    const watch = await ok(c, c.clientOn(follower).watch({ prefix: '' }, { signal: ctl.signal }));
    const pending = watch.next();
    const reason = new Error('caller is done');
    ctl.abort(reason);
    const r = await c.clock.settleOf(pending);
    expect(r).toEqual({ ok: false, error: reason });
    expect(follower.machine.watcherCount).toBe(0);
    const again = await c.clock.settleOf(c.clientOn(follower).watch({ prefix: '' }, { signal: ctl.signal }));
    expect(again).toEqual({ ok: false, error: reason });
    expect(follower.machine.watcherCount).toBe(0);
  });

  test('a bad filter is KV_INVALID_ARGUMENT', async () => {
    const c = await startCluster();
    const r = await c.clock.settleOf(c.clientOn(c.leader()!).watch({ key: 'a', prefix: 'b' } as never));
    expect(r.ok).toBe(false);
    expect((r as { error: { code: string } }).error.code).toBe('KV_INVALID_ARGUMENT');
  });
});
