import { describe, expect, test } from 'vitest';
import { isKvError, type WatchEvent, type WatchStream } from '../src/index.js';
import { cas, del, MachineHarness, put, putMany, tag } from './helpers/machine.js';

/** Takes `n` events a watch has queued (they are all there: apply is synchronous). */
async function take(w: WatchStream, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await w.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const brief = (e: WatchEvent): string => `${e.revision}:${e.type}:${e.key}${e.value === undefined ? '' : '=' + JSON.stringify(e.value)}`;

describe('KvStateMachine.watch: the history of what apply changed', () => {
  test('puts, deletes, an ok cas and a putMany become events in revision order; a failed cas, a delete of an absent key and a replayed duplicate do not', async () => {
    const h = new MachineHarness();
    const watch = h.machine.watch({ prefix: '' }, { fromRevision: 1, prevValue: true });
    const id = h.register(); // 1: no change
    h.write(put('a', 1), tag(id, 1)); // 2
    h.write(put('a', 1), tag(id, 1)); // 3: duplicate, replayed
    h.write(cas('a', 5, 2)); // 4: fails
    h.write(cas('a', 1, 2)); // 5
    h.write(del('nope')); // 6: absent
    h.write(putMany(['b', 'x'], ['c', 'y'])); // 7
    h.write(del('a')); // 8
    const events = await take(watch, 5);
    expect(events.map(brief)).toEqual(['2:put:a=1', '5:put:a=2', '7:put:b="x"', '7:put:c="y"', '8:delete:a']);
    expect(events[1]!.prevValue).toBe(1);
    expect(events[1]).toMatchObject({ createRevision: 2, modRevision: 5, version: 2 });
    expect(events[4]!.prevValue).toBe(2);
    await watch.return();
    expect(h.machine.watcherCount).toBe(0);
  });

  test('a key watch sees only its key; a watch from the middle replays from there and then goes live', async () => {
    const h = new MachineHarness();
    for (let i = 1; i <= 6; i++) h.write(put(i % 2 ? 'odd' : 'even', i));
    const w = h.machine.watch({ key: 'odd' }, { fromRevision: 3 });
    h.write(put('odd', 7)); // 7, applied after the watch opened
    expect((await take(w, 3)).map(brief)).toEqual(['3:put:odd=3', '5:put:odd=5', '7:put:odd=7']);
    await w.return();
  });

  test('after a restore at S, the history starts at S + 1: an older fromRevision is KV_COMPACTED naming it', async () => {
    const src = new MachineHarness();
    for (let i = 0; i < 5; i++) src.write(put(`k${i}`, i));
    const dst = new MachineHarness();
    dst.write(put('old', 0));
    const running = dst.machine.watch({ prefix: '' }, { fromRevision: 1 });
    expect((await running.next()).value).toMatchObject({ key: 'old', revision: 1 });
    await dst.machine.restore(src.machine.snapshot(), { index: 5, term: 1 } as never);
    expect(dst.machine.oldestWatchRevision).toBe(6);
    let err: unknown;
    try {
      dst.machine.watch({ prefix: '' }, { fromRevision: 5 });
    } catch (e) {
      err = e;
    }
    expect(isKvError(err) && err.code).toBe('KV_COMPACTED');
    expect((err as { oldestRevision: number }).oldestRevision).toBe(6);
    // The running watch was at revision 2, at or before the snapshot: it cannot know what changed.
    await expect(running.next()).rejects.toMatchObject({ code: 'KV_COMPACTED' });
    expect(dst.machine.watcherCount).toBe(0);
  });

  test('watchHistory 0 keeps no history: only live watches', async () => {
    const h = new MachineHarness({ watchHistory: 0 });
    h.write(put('a', 1));
    expect(() => h.machine.watch({ prefix: '' }, { fromRevision: 1 })).toThrow(expect.objectContaining({ code: 'KV_COMPACTED' }));
    const live = h.machine.watch({ prefix: '' }, { fromRevision: 2 });
    h.write(put('a', 2));
    expect((await take(live, 1)).map(brief)).toEqual(['2:put:a=2']);
    await live.return();
  });
});
