import type { Entry, HardState } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectEntries, makeEntries, makeEntry } from '../helpers.js';
import { snapMeta, snapshotData, writeSnapshot } from '../snapshotHelpers.js';

const MiB = 1024 * 1024;
const group = 'size and concurrency';

export const scaleCases: LogStorageCase[] = [
  {
    group,
    name: '8 MiB entries round trip, alone and mixed with small ones',
    requires: 'largeEntries',
    run: (env) =>
      withLog(env, async (log) => {
        const entries = [
          makeEntry(1, 1, { size: 8 * MiB }),
          makeEntry(2, 1, { size: 10 }),
          makeEntry(3, 1, { size: 8 * MiB + 3 }),
          makeEntry(4, 1, { size: 0 }),
        ];
        await log.storage.save({ entries: entries.slice(0, 1) });
        await log.storage.save({ entries: entries.slice(1) });
        expectEntries(await log.storage.entries(1, 5), entries);
        expectEntries(await log.storage.entries(3, 4), entries.slice(2, 3));
        if (!env.supports.reopen) return;
        const storage = await log.reopen();
        expectEntries(await storage.entries(1, 5), entries);
      }),
  },
  {
    group,
    name: '10,000 small entries in 100 writes read back in one range',
    run: (env) =>
      withLog(env, async (log) => {
        const all = makeEntries(1, 10_000, (i) => 1 + Math.floor(i / 3000), 24);
        for (let k = 0; k < 100; k++) {
          await log.storage.save({ entries: all.slice(k * 100, k * 100 + 100) });
        }
        expectEntries(await log.storage.entries(1, 10_001), all);
        for (const i of [1, 2999, 3000, 6001, 10_000]) expect(await log.storage.term(i)).toBe(all[i - 1].term);
        if (!env.supports.reopen) return;
        const storage = await log.reopen();
        await expectState(storage, { firstIndex: 1, lastIndex: 10_000 });
        expectEntries(await storage.entries(1, 10_001), all);
      }),
  },
  {
    group,
    name: '10,000 small entries in a single write',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const all = makeEntries(1, 10_000, 1, 8);
        await storage.save({ entries: all });
        expectEntries(await storage.entries(1, 10_001), all);
      }),
  },
  {
    group,
    name: 'concurrent saves are applied in call order: no hole, no reorder, last hard state wins',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const expected: Entry[] = [];
        const pending: Promise<void>[] = [];
        let next = 1;
        let hardState: HardState = { term: 1, vote: null, commit: 0 };
        for (let k = 0; k < 500; k++) {
          const entries = makeEntries(next, 1 + (k % 4), 1, 8 + (k % 50));
          next += entries.length;
          expected.push(...entries);
          hardState = { term: 1, vote: `n${k % 3}`, commit: Math.max(0, next - 5) };
          pending.push(storage.save(k % 5 === 0 ? { entries } : { entries, hardState }));
          if (k % 7 === 0) pending.push(storage.save({ hardState: { ...hardState, term: 1 } }));
        }
        const finalHardState = { term: 2, vote: 'n9', commit: next - 1 };
        pending.push(storage.save({ hardState: finalHardState }));
        await Promise.all(pending);
        await expectState(storage, { firstIndex: 1, lastIndex: next - 1, hardState: finalHardState });
        expectEntries(await storage.entries(1, next), expected);
      }),
  },
  {
    group,
    name: 'concurrent saves resolve in call order (a runtime pipelining writes relies on it)',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const resolved: number[] = [];
        const pending: Promise<void>[] = [];
        let next = 1;
        for (let k = 0; k < 300; k++) {
          // Entries (synced), and commit-only updates (sync: false) between them.
          const save =
            k % 3 === 2
              ? storage.save({ hardState: { term: 1, vote: null, commit: next - 1 }, sync: false })
              : storage.save({ entries: makeEntries(next, 1 + (k % 3), 1) });
          if (k % 3 !== 2) next += 1 + (k % 3);
          pending.push(save.then(() => void resolved.push(k)));
        }
        await Promise.all(pending);
        expect(resolved).toEqual([...resolved].sort((a, b) => a - b));
        await expectState(storage, { firstIndex: 1, lastIndex: next - 1 });
      }),
  },
  {
    group,
    name: 'concurrent saves with truncations apply in call order',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const a = makeEntries(1, 10, 1);
        const b = makeEntries(5, 3, 2);
        const c = makeEntries(8, 2, 2);
        const d = makeEntries(7, 4, 3);
        await Promise.all([a, b, c, d].map((entries) => storage.save({ entries })));
        await expectState(storage, { firstIndex: 1, lastIndex: 10 });
        expectEntries(await storage.entries(1, 11), [...a.slice(0, 4), ...b.slice(0, 2), ...d]);
      }),
  },
  {
    group,
    name: 'saves, snapshot installs and compactions issued together are serialized in call order',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 12, 1);
        // The snapshots' bytes first (writing them is not ordered with the log), then the calls.
        await writeSnapshot(storage, snapMeta(5, 1), snapshotData(5, 100));
        await writeSnapshot(storage, snapMeta(8, 1), snapshotData(8, 100));
        await Promise.all([
          storage.save({ entries: log.slice(0, 10) }),
          storage.installSnapshot(snapMeta(5, 1)),
          storage.save({ entries: log.slice(10) }),
          storage.compact(5),
          storage.installSnapshot(snapMeta(8, 1)),
          storage.compact(8),
          storage.save({ entries: makeEntries(13, 2, 2) }),
        ]);
        await expectState(storage, { firstIndex: 9, lastIndex: 14, snapshotIndex: 8 });
        expectEntries(await storage.entries(9, 15), [...log.slice(8), ...makeEntries(13, 2, 2)]);
      }),
  },
];
