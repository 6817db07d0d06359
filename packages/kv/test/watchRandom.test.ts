import { describe, expect, it } from 'vitest';
import { isKvError } from '../src/errors.js';
import type { KvWatch, WatchFilter } from '../src/watch.js';
import { WatchHub } from '../src/watchHub.js';
import { ChangeModel, type Op } from './helpers/watchModel.js';
import { seededRandom } from '@raftkit/core';

const KEYS = ['a', 'ab', 'abc', 'b', 'ba', 'c'];
const FILTERS: WatchFilter[] = [{ key: 'a' }, { key: 'ba' }, { prefix: 'a' }, { prefix: 'ab' }, { prefix: 'b' }, { prefix: '' }];

interface Watcher {
  readonly w: KvWatch;
  readonly match: (key: string) => boolean;
  readonly from: number;
  /** Results by call order (a next() called earlier settles with an earlier event). */
  readonly results: Promise<{ event?: [number, string]; error?: unknown; done?: true }>[];
  cancelled: boolean;
}

const matcher = (f: WatchFilter): ((key: string) => boolean) =>
  f.key !== undefined ? (k) => k === f.key : (k) => k.startsWith(f.prefix as string);

type Outcome = 'KV_WATCH_OVERFLOW' | 'KV_COMPACTED' | 'returned' | 'open' | 'refused';

async function runSeed(seed: number, outcomes: Map<Outcome, number>): Promise<{ watchers: number; events: number }> {
  const count = (o: Outcome): void => void outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
  const rnd = seededRandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const historyRevisions = int(0, 30);
  const hub = new WatchHub({ historyRevisions, historyBytes: 1 << 30, maxQueued: int(1, 40) });
  const model = new ChangeModel();
  const watchers: Watcher[] = [];
  let revision = 0;
  /** Revisions that changed something since the last restore (at `restoredAt`). */
  let changedSinceRestore: number[] = [];
  let restoredAt = 0;

  for (let step = 0; step < 400; step++) {
    const x = rnd();
    if (x < 0.45) {
      revision += int(1, 3);
      const ops: Op[] = Array.from({ length: int(1, 3) }, () => {
        const key = KEYS[int(0, KEYS.length - 1)] as string;
        return rnd() < 0.7 ? { put: key, value: int(0, 99) } : { delete: key };
      });
      if (model.apply(hub, revision, ops).length > 0) changedSinceRestore.push(revision);
    } else if (x < 0.47) {
      revision += int(0, 4);
      hub.restored(revision);
      restoredAt = revision;
      changedSinceRestore = [];
    } else if (x < 0.57) {
      const f = FILTERS[int(0, FILTERS.length - 1)] as WatchFilter;
      const from = Math.max(1, int(hub.oldestRevision - 3, revision + 3));
      try {
        const w = hub.watch(f, { fromRevision: from, prevValue: rnd() < 0.5 }) as KvWatch;
        expect(from).toBeGreaterThanOrEqual(hub.oldestRevision);
        watchers.push({ w, match: matcher(f), from, results: [], cancelled: false });
      } catch (err) {
        count('refused');
        expect(isKvError(err)).toBe(true);
        expect(err).toMatchObject({ code: 'KV_COMPACTED', oldestRevision: hub.oldestRevision });
        expect(from).toBeLessThan(hub.oldestRevision);
      }
    } else if (x < 0.97 && watchers.length > 0) {
      // A consumer pulls a few events; some calls wait for later applies.
      const v = watchers[int(0, watchers.length - 1)] as Watcher;
      for (let i = int(1, 6); i > 0; i--) v.results.push(settle(v.w.next()));
    } else if (watchers.length > 0) {
      const v = watchers[int(0, watchers.length - 1)] as Watcher;
      v.cancelled = true;
      await v.w.return();
    }
    // The history holds exactly the last historyRevisions changed revisions since the restore.
    const n = changedSinceRestore.length;
    const floor = n > historyRevisions ? (changedSinceRestore[n - historyRevisions - 1] as number) : restoredAt;
    expect(hub.oldestRevision).toBe(floor + 1);
  }

  // Drain: every event a watch has (queued, or in the history it has not read yet).
  for (const v of watchers) {
    while (v.w.attached && !v.w.live) v.results.push(settle(v.w.next()));
    for (let i = v.w.queued; i > 0; i--) v.results.push(settle(v.w.next()));
    if (!v.w.attached) v.results.push(settle(v.w.next())); // its error, if it ended with one
  }
  const openAtEnd = watchers.filter((v) => v.w.attached);
  for (const v of openAtEnd) void v.w.return(); // settles the calls still waiting as done

  let events = 0;
  for (const v of watchers) {
    const results = await Promise.all(v.results);
    const got = results.flatMap((r) => (r.event ? [r.event] : []));
    events += got.length;
    const end = results.findIndex((r) => !r.event);
    // Nothing after the end but more ends; the end's error (if any) comes once.
    if (end >= 0) expect(results.slice(end + 1).every((r) => r.done)).toBe(true);
    const error = end >= 0 ? results[end]?.error : undefined;
    const all = model.expected(v.match, v.from);
    if (error !== undefined) {
      expect(error).toMatchObject({ code: expect.stringMatching(/^KV_(WATCH_OVERFLOW|COMPACTED)$/) });
      const last = (error as { lastRevision: number }).lastRevision;
      expect(last).toBeGreaterThanOrEqual(v.from - 1);
      expect(got).toEqual(model.expected(v.match, v.from, last));
      count((error as { code: Outcome }).code);
    } else if (v.cancelled) {
      count('returned');
      expect(got).toEqual(all.slice(0, got.length)); // a prefix: return() dropped the rest
    } else {
      count('open');
      expect(got).toEqual(all); // still open: every matching change, exactly once, in order
    }
  }
  expect(hub.watcherCount).toBe(0);
  return { watchers: watchers.length, events };
}

function settle(p: Promise<IteratorResult<{ revision: number; key: string }>>): Watcher['results'][number] {
  return p.then(
    (r) => (r.done ? { done: true as const } : { event: [r.value.revision, r.value.key] as [number, string] }),
    (error: unknown) => ({ error }),
  );
}

describe('watch: randomized applies, restores and watchers (seeded)', () => {
  const seeds = process.env.WATCH_SEED ? [Number(process.env.WATCH_SEED)] : Array.from({ length: 200 }, (_, i) => i + 1);
  it(`every watcher sees exactly its matching suffix (${seeds.length} seeds)`, async () => {
    let watchers = 0;
    let events = 0;
    const outcomes = new Map<Outcome, number>();
    for (const seed of seeds) {
      try {
        const r = await runSeed(seed, outcomes);
        watchers += r.watchers;
        events += r.events;
      } catch (err) {
        throw new Error(`seed ${seed} failed (replay: WATCH_SEED=${seed}): ${(err as Error).message}`, { cause: err });
      }
    }
    // The run must exercise something: many watchers and events overall.
    expect(watchers).toBeGreaterThan(1000);
    expect(events).toBeGreaterThan(10_000);
    // ... and every way a watch can end.
    console.log(`watch random: ${watchers} watchers, ${events} events`, Object.fromEntries(outcomes));
    for (const o of ['KV_WATCH_OVERFLOW', 'KV_COMPACTED', 'returned', 'open', 'refused'] as const) expect(outcomes.get(o) ?? 0, o).toBeGreaterThan(20);
  });
});
