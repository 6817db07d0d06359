import { describe, expect, it } from 'vitest';
import { isKvError } from '../src/errors.js';
import { WatchHub } from '../src/watchHub.js';
import { ChangeModel, take } from './helpers/watchModel.js';

const all = (): boolean => true;

/** Applies revisions from..to, each a put of `k/<revision>`. */
function fill(hub: WatchHub, model: ChangeModel, from: number, to: number): void {
  for (let r = from; r <= to; r++) model.apply(hub, r, [{ put: `k/${r}`, value: r }]);
}

describe('watch: replay then live', () => {
  it('replays history from fromRevision, then delivers live revisions, each once, in order', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    fill(hub, model, 1, 50);
    const w = hub.watch({ prefix: 'k/' }, { fromRevision: 10 });
    const got = await take(w, 5);
    fill(hub, model, 51, 60); // applied while the replay is being consumed
    got.push(...(await take(w, 46)));
    const pending = w.next();
    fill(hub, model, 61, 61);
    const live = await pending;
    expect(live.done).toBe(false);
    got.push([live.value!.revision, live.value!.key]);
    expect(got).toEqual(model.expected(all, 10));
    expect(got.map(([r]) => r)).toEqual(Array.from({ length: 52 }, (_, i) => 10 + i));
  });

  it('loses nothing when the history is trimmed under a replay (trimmed revisions move to its queue)', async () => {
    const hub = new WatchHub({ historyRevisions: 8 });
    const model = new ChangeModel();
    fill(hub, model, 1, 8);
    const w = hub.watch({ prefix: '' }, { fromRevision: 1 });
    const got = await take(w, 2);
    fill(hub, model, 9, 20); // trims revisions 1..12 while the watch is at 3
    expect(hub.oldestRevision).toBe(13);
    got.push(...(await take(w, 18)));
    expect(got).toEqual(model.expected(all, 1));
  });

  it('delivers a revision with several changes together, in op order', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    model.apply(hub, 3, [{ put: 'b', value: 1 }, { put: 'a', value: 2 }, { put: 'c', value: 3 }]);
    model.apply(hub, 4, [{ delete: 'a' }, { put: 'b', value: 4 }]);
    const w = hub.watch({ prefix: '' }, { fromRevision: 3 });
    expect(await take(w, 5)).toEqual([[3, 'b'], [3, 'a'], [3, 'c'], [4, 'a'], [4, 'b']]);
  });

  it('starts at the next revision by default; a future fromRevision waits for it', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    fill(hub, model, 1, 5);
    const now = hub.watch({ prefix: '' });
    const later = hub.watch({ prefix: '' }, { fromRevision: 9 });
    fill(hub, model, 6, 10);
    expect(await take(now, 5)).toEqual(model.expected(all, 6));
    expect(await take(later, 2)).toEqual([[9, 'k/9'], [10, 'k/10']]);
  });
});

describe('watch: filters and events', () => {
  it('a key watch sees only that key; a prefix watch every key under it', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const key = hub.watch({ key: 'a' }, { fromRevision: 1 });
    const prefix = hub.watch({ prefix: 'a' }, { fromRevision: 1 });
    const everything = hub.watch({ prefix: '' }, { fromRevision: 1 });
    model.apply(hub, 1, [{ put: 'a', value: 1 }, { put: 'ab', value: 1 }, { put: 'b', value: 1 }]);
    model.apply(hub, 2, [{ put: 'ba', value: 1 }, { delete: 'a' }]);
    model.apply(hub, 3, [{ put: 'a', value: 2 }]);
    expect(await take(key, 3)).toEqual([[1, 'a'], [2, 'a'], [3, 'a']]);
    expect(await take(prefix, 4)).toEqual([[1, 'a'], [1, 'ab'], [2, 'a'], [3, 'a']]);
    expect(await take(everything, 6)).toEqual(model.expected(all, 1));
  });

  it('reports the record after the change; prevValue only when asked and the key existed', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const plain = hub.watch({ key: 'a' }, { fromRevision: 1 });
    const withPrev = hub.watch({ key: 'a' }, { fromRevision: 1, prevValue: true });
    model.apply(hub, 1, [{ put: 'a', value: { v: 1 }, lease: 7 }]);
    model.apply(hub, 4, [{ put: 'a', value: new Uint8Array([1, 2]) }]);
    model.apply(hub, 6, [{ delete: 'a' }]);
    const [p1, p4, p6] = [await plain.next(), await plain.next(), await plain.next()].map((r) => r.value);
    expect(p1).toEqual({ type: 'put', key: 'a', revision: 1, value: { v: 1 }, createRevision: 1, modRevision: 1, version: 1, lease: 7 });
    expect(p4).toEqual({ type: 'put', key: 'a', revision: 4, value: new Uint8Array([1, 2]), createRevision: 1, modRevision: 4, version: 2, lease: 0 });
    expect(p6).toEqual({ type: 'delete', key: 'a', revision: 6, createRevision: 0, modRevision: 6, version: 0, lease: 0 });
    const [q1, q4, q6] = [await withPrev.next(), await withPrev.next(), await withPrev.next()].map((r) => r.value);
    expect(q1).not.toHaveProperty('prevValue');
    expect(q4?.prevValue).toEqual({ v: 1 });
    expect(q6?.prevValue).toEqual(new Uint8Array([1, 2]));
    // Each event's bytes are its own copy.
    expect(q4?.value).not.toBe(p4?.value);
    (p4?.value as Uint8Array)[0] = 9;
    expect(q4?.value).toEqual(new Uint8Array([1, 2]));
  });
});

describe('watch: bounded history and KV_COMPACTED', () => {
  it('keeps historyRevisions revisions; oldest exactly is accepted, oldest - 1 is KV_COMPACTED', async () => {
    const hub = new WatchHub({ historyRevisions: 10 });
    const model = new ChangeModel();
    expect(hub.oldestRevision).toBe(1);
    fill(hub, model, 1, 25);
    expect(hub.historySize).toBe(10);
    expect(hub.oldestRevision).toBe(16);
    expect(hub.currentRevision).toBe(25);
    expect(await take(hub.watch({ prefix: '' }, { fromRevision: 16 }), 10)).toEqual(model.expected(all, 16));
    let err: unknown;
    try {
      hub.watch({ prefix: '' }, { fromRevision: 15 });
    } catch (e) {
      err = e;
    }
    expect(isKvError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'KV_COMPACTED', oldestRevision: 16 });
    expect((err as Error).message).toContain('fromRevision 15');
    expect(hub.watcherCount).toBe(1);
  });

  it('counts revisions that changed something: the oldest is one past the last trimmed one', async () => {
    const hub = new WatchHub({ historyRevisions: 2 });
    const model = new ChangeModel();
    model.apply(hub, 5, [{ put: 'a', value: 1 }]);
    hub.applied(6, []); // nothing changed: not a history revision
    model.apply(hub, 9, [{ put: 'a', value: 2 }]);
    model.apply(hub, 12, [{ put: 'a', value: 3 }]);
    expect(hub.oldestRevision).toBe(6);
    expect(await take(hub.watch({ key: 'a' }, { fromRevision: 6 }), 2)).toEqual([[9, 'a'], [12, 'a']]);
    expect(() => hub.watch({ key: 'a' }, { fromRevision: 5 })).toThrow(expect.objectContaining({ code: 'KV_COMPACTED', oldestRevision: 6 }));
  });

  it('bounds the estimated bytes too; a revision over the byte bound on its own is not kept', () => {
    const hub = new WatchHub({ historyBytes: 8 * 1024 });
    const model = new ChangeModel();
    for (let r = 1; r <= 100; r++) model.apply(hub, r, [{ put: `k/${r % 7}`, value: 'x'.repeat(200) }]);
    expect(hub.historyBytes).toBeLessThanOrEqual(8 * 1024);
    expect(hub.historySize).toBeGreaterThan(5);
    expect(hub.oldestRevision).toBe(100 - hub.historySize + 1);
    model.apply(hub, 101, [{ put: 'big', value: 'y'.repeat(10_000) }]);
    expect(hub.historySize).toBe(0);
    expect(hub.historyBytes).toBe(0);
    expect(hub.oldestRevision).toBe(102);
  });

  it('historyRevisions 0 keeps nothing: only live watches', async () => {
    const hub = new WatchHub({ historyRevisions: 0 });
    const model = new ChangeModel();
    fill(hub, model, 1, 3);
    expect(() => hub.watch({ prefix: '' }, { fromRevision: 3 })).toThrow(expect.objectContaining({ code: 'KV_COMPACTED', oldestRevision: 4 }));
    const w = hub.watch({ prefix: '' });
    fill(hub, model, 4, 5);
    expect(await take(w, 2)).toEqual(model.expected(all, 4));
  });

  it('after a restore at S the oldest revision is S + 1 and the history starts empty', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    fill(hub, model, 1, 10);
    hub.restored(40);
    expect(hub.oldestRevision).toBe(41);
    expect(hub.currentRevision).toBe(40);
    expect(hub.historySize).toBe(0);
    expect(() => hub.watch({ prefix: '' }, { fromRevision: 40 })).toThrow(expect.objectContaining({ code: 'KV_COMPACTED', oldestRevision: 41 }));
    const w = hub.watch({ prefix: '' }, { fromRevision: 41 });
    fill(hub, model, 41, 42);
    expect(await take(w, 2)).toEqual(model.expected(all, 41));
  });

  it('a restore past a running watch ends it with KV_COMPACTED after what it queued; one past the snapshot runs on', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const behind = hub.watch({ prefix: '' }, { fromRevision: 1 }); // live: fed by the applies
    const ahead = hub.watch({ prefix: '' }, { fromRevision: 31 });
    fill(hub, model, 1, 4);
    const replaying = hub.watch({ prefix: '' }, { fromRevision: 1 }); // reads the history
    expect(await take(replaying, 1)).toEqual([[1, 'k/1']]);
    hub.restored(30);
    expect(hub.watcherCount).toBe(1);
    expect(await take(behind, 4)).toEqual(model.expected(all, 1));
    await expect(behind.next()).rejects.toMatchObject({ code: 'KV_COMPACTED', oldestRevision: 31, lastRevision: 4 });
    expect(await behind.next()).toEqual({ done: true, value: undefined });
    await expect(replaying.next()).rejects.toMatchObject({ code: 'KV_COMPACTED', lastRevision: 1 });
    fill(hub, model, 31, 32);
    expect(await take(ahead, 2)).toEqual(model.expected(all, 31));
  });

  it('a restore to an earlier revision keeps a live watch, which skips the revisions applied again', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const w = hub.watch({ prefix: '' }, { fromRevision: 1 });
    fill(hub, model, 1, 10);
    expect(await take(w, 10)).toEqual(model.expected(all, 1));
    hub.restored(6);
    const again = new ChangeModel();
    fill(hub, again, 7, 12); // the log from 7 on, applied again
    expect(await take(w, 2)).toEqual([[11, 'k/11'], [12, 'k/12']]);
    expect(await take(hub.watch({ prefix: '' }, { fromRevision: 7 }), 6)).toEqual(again.expected(all, 7));
  });
});
