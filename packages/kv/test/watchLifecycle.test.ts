import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { KvWatch } from '../src/watch.js';
import { WatchHub } from '../src/watchHub.js';
import { ChangeModel, rejection, take } from './helpers/watchModel.js';

const all = (): boolean => true;

/** Revision r puts `a/r` and `b/r`: two changes each. */
function pairs(hub: WatchHub, model: ChangeModel, from: number, to: number): void {
  for (let r = from; r <= to; r++) model.apply(hub, r, [{ put: `a/${r}`, value: r }, { put: `b/${r}`, value: r }]);
}

describe('watch: a slow consumer overflows', () => {
  it('ends with KV_WATCH_OVERFLOW after the whole revisions it queued; lastRevision + 1 resumes', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const w = hub.watch({ prefix: '' }, { maxQueued: 5 });
    pairs(hub, model, 1, 2); // 4 queued
    expect(hub.watcherCount).toBe(1);
    pairs(hub, model, 3, 3); // 6 > 5: revision 3 is not half-queued, the watch is detached
    expect(hub.watcherCount).toBe(0);
    pairs(hub, model, 4, 6);
    expect(await take(w, 4)).toEqual(model.expected(all, 1, 2));
    const err = await rejection(w.next());
    expect(err).toMatchObject({ code: 'KV_WATCH_OVERFLOW', lastRevision: 2 });
    expect((err as Error).message).toContain('resume with fromRevision 3');
    expect(await w.next()).toEqual({ done: true, value: undefined });
    const resumed = hub.watch({ prefix: '' }, { fromRevision: 3 });
    expect(await take(resumed, 8)).toEqual(model.expected(all, 3));
  });

  it('counts only matching events, and a consumer that keeps up never overflows', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const onlyA = hub.watch({ prefix: 'a/' }, { maxQueued: 3 });
    const keepsUp = hub.watch({ prefix: '' }, { maxQueued: 2 });
    const got: [number, string][] = [];
    for (let r = 1; r <= 20; r++) {
      pairs(hub, model, r, r);
      got.push(...(await take(keepsUp, 2)));
      if (r === 3) expect(await take(onlyA, 3)).toEqual(model.expected((k) => k.startsWith('a/'), 1, 3));
    }
    expect(got).toEqual(model.expected(all, 1));
    expect(await take(onlyA, 3)).toEqual(model.expected((k) => k.startsWith('a/'), 4, 6));
    await expect(onlyA.next()).rejects.toMatchObject({ code: 'KV_WATCH_OVERFLOW', lastRevision: 6 });
  });

  it('queues a revision larger than maxQueued whole when its queue is empty', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const w = hub.watch({ prefix: '' }, { maxQueued: 2 });
    model.apply(hub, 1, [1, 2, 3, 4, 5].map((i) => ({ put: `k${i}`, value: i })));
    expect(await take(w, 5)).toEqual(model.expected(all, 1));
    expect(hub.watcherCount).toBe(1);
  });

  it('a replay that the history outruns overflows instead of losing the trimmed revisions', async () => {
    const hub = new WatchHub({ historyRevisions: 4, maxQueued: 3 });
    const model = new ChangeModel();
    pairs(hub, model, 1, 4);
    const w = hub.watch({ prefix: '' }, { fromRevision: 1 });
    pairs(hub, model, 5, 5); // trims 1 into the queue (2 events)
    expect(hub.watcherCount).toBe(1);
    pairs(hub, model, 6, 6); // trimming 2 would make 4 > 3
    expect(hub.watcherCount).toBe(0);
    expect(await take(w, 2)).toEqual(model.expected(all, 1, 1));
    await expect(w.next()).rejects.toMatchObject({ code: 'KV_WATCH_OVERFLOW', lastRevision: 1 });
    expect(hub.oldestRevision).toBe(3);
  });
});

describe('watch: ending it', () => {
  it('return() ends it at once, drops its queue, settles a pending next() and detaches it', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const queued = hub.watch({ prefix: '' }) as KvWatch;
    const waiting = hub.watch({ prefix: '' });
    const pending = waiting.next();
    pairs(hub, model, 1, 3);
    expect(queued.queued).toBe(6);
    expect(hub.watcherCount).toBe(2);
    await queued.return();
    expect(queued.queued).toBe(0);
    expect(hub.watcherCount).toBe(1);
    expect(await queued.next()).toEqual({ done: true, value: undefined });
    expect((await pending).value?.key).toBe('a/1');
    expect((waiting as KvWatch).queued).toBe(5);
    await waiting.return();
    expect((waiting as KvWatch).queued).toBe(0);
    expect(await waiting.next()).toEqual({ done: true, value: undefined });
    expect(hub.watcherCount).toBe(0);
  });

  it('return() with a next() still waiting resolves it done', async () => {
    const hub = new WatchHub();
    const w = hub.watch({ key: 'a' });
    const pending = w.next();
    await w.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(hub.watcherCount).toBe(0);
  });

  it('aborting ends it: queue dropped, the waiting next() rejects with the reason, then done; listener removed', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const ac = new AbortController();
    const w = hub.watch({ prefix: '' }, { signal: ac.signal }) as KvWatch;
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    pairs(hub, model, 1, 1);
    expect(await take(w, 2)).toEqual(model.expected(all, 1));
    const pending = w.next();
    const reason = new Error('caller gave up');
    ac.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    expect(await w.next()).toEqual({ done: true, value: undefined });
    expect(hub.watcherCount).toBe(0);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);

    const ac2 = new AbortController();
    const full = hub.watch({ prefix: '' }, { signal: ac2.signal }) as KvWatch;
    pairs(hub, model, 2, 3);
    expect(full.queued).toBe(4);
    ac2.abort();
    expect(full.queued).toBe(0);
    expect(await rejection(full.next())).toBe(ac2.signal.reason);
    expect(hub.watcherCount).toBe(0);
  });

  it('a watch that ends by itself removes its abort listener', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const ac = new AbortController();
    const w = hub.watch({ prefix: '' }, { signal: ac.signal, maxQueued: 1 });
    pairs(hub, model, 1, 2);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await take(w, 2);
    await expect(w.next()).rejects.toMatchObject({ code: 'KV_WATCH_OVERFLOW' });
  });

  it('an already-aborted signal throws its reason from watch() and registers nothing', () => {
    const hub = new WatchHub();
    const reason = new Error('no');
    expect(() => hub.watch({ key: 'a' }, { signal: AbortSignal.abort(reason) })).toThrow(reason);
    expect(hub.watcherCount).toBe(0);
  });

  it('for await ... break detaches it', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    pairs(hub, model, 1, 3);
    const seen: number[] = [];
    for await (const e of hub.watch({ prefix: 'a/' }, { fromRevision: 1 })) {
      seen.push(e.revision);
      if (e.revision === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(hub.watcherCount).toBe(0);
  });

  it('concurrent next() calls get consecutive events in call order', async () => {
    const hub = new WatchHub();
    const model = new ChangeModel();
    const w = hub.watch({ prefix: '' });
    const calls = [w.next(), w.next(), w.next()];
    pairs(hub, model, 1, 1);
    pairs(hub, model, 2, 2);
    const got = (await Promise.all(calls)).map((r) => [r.value?.revision, r.value?.key]);
    expect(got).toEqual(model.expected(all, 1, 2).slice(0, 3));
  });
});

describe('watch: arguments and invariants', () => {
  const hub = new WatchHub();
  it.each([
    [{}, 'must name a key or a prefix'],
    [{ key: 'a', prefix: 'a' }, 'not both'],
    [{ key: '' }, 'key must not be empty'],
    [null, 'must be { key } or { prefix }'],
  ])('refuses the filter %j', (filter, message) => {
    expect(() => hub.watch(filter as never)).toThrow(expect.objectContaining({ code: 'KV_INVALID_ARGUMENT', message: expect.stringContaining(message) }));
  });

  it.each([
    [{ fromRevision: 0 }, 'fromRevision'],
    [{ fromRevision: 1.5 }, 'fromRevision'],
    [{ maxQueued: 0 }, 'maxQueued'],
    [{ prevValue: 'yes' }, 'prevValue'],
    [{ signal: {} }, 'signal'],
  ])('refuses the options %j', (options, message) => {
    expect(() => hub.watch({ key: 'a' }, options as never)).toThrow(expect.objectContaining({ code: 'KV_INVALID_ARGUMENT', message: expect.stringContaining(message) }));
  });

  it('refuses bad hub options', () => {
    expect(() => new WatchHub({ historyRevisions: -1 })).toThrow(expect.objectContaining({ code: 'KV_INVALID_ARGUMENT' }));
    expect(() => new WatchHub({ maxQueued: 0 })).toThrow(expect.objectContaining({ code: 'KV_INVALID_ARGUMENT' }));
  });

  it('throws on an applied revision that does not move forward', () => {
    const h = new WatchHub();
    const model = new ChangeModel();
    model.apply(h, 5, [{ put: 'a', value: 1 }]);
    expect(() => h.applied(5, model.changes(5, [{ put: 'a', value: 2 }]))).toThrow(/not after the current revision 5/);
    expect(() => h.applied(4, [])).toThrow(/not after/);
  });
});
