import type { Entry, LogStorage, StoredState, Snapshot } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectEntries, expectSnapshot, makeEntries, makeSnapshot } from '../helpers.js';
import { installWhole, readSnapshot } from '../snapshotHelpers.js';

const group = 'durability across reopen';

interface Picture {
  readonly state: StoredState;
  readonly entries: Entry[];
  readonly snapshot: Snapshot | null;
}

async function picture(storage: LogStorage): Promise<Picture> {
  const state = await storage.state();
  const entries = await storage.entries(state.firstIndex, state.lastIndex + 1);
  return { state, entries, snapshot: await readSnapshot(storage) };
}

async function expectPicture(storage: LogStorage, expected: Picture): Promise<void> {
  const actual = await picture(storage);
  expect({ ...actual.state, hardState: { ...actual.state.hardState } }).toEqual({
    ...expected.state,
    hardState: { ...expected.state.hardState },
  });
  expectEntries(actual.entries, expected.entries);
  if (expected.snapshot) expectSnapshot(actual.snapshot, expected.snapshot);
  else expect(actual.snapshot).toBeNull();
}

export const durabilityCases: LogStorageCase[] = [
  {
    group,
    name: 'reopening after close yields exactly what was saved: entries, truncations, snapshot, hard state',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        const s = log.storage;
        await s.save({ entries: makeEntries(1, 12, 1), hardState: { term: 1, vote: 'a', commit: 3 } });
        await s.save({ entries: makeEntries(9, 6, 2), hardState: { term: 2, vote: 'b', commit: 8 } });
        await installWhole(s, makeSnapshot(6, 1));
        await s.save({ entries: makeEntries(15, 3, 3), hardState: { term: 3, vote: null, commit: 14 } });
        const before = await picture(s);
        expect(before.state.lastIndex).toBe(17);
        await expectPicture(await log.reopen(), before);
        await expectPicture(await log.reopen(), before);
      }),
  },
  {
    group,
    name: 'close() lets pending writes finish: every resolved write is there after reopen',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        const writes = Array.from({ length: 40 }, (_, k) => makeEntries(k * 3 + 1, 3, 1));
        const pending = writes.map((entries) => log.storage.save({ entries }));
        const closing = log.close();
        const outcomes = await Promise.allSettled(pending);
        await closing;
        const resolved = outcomes.findIndex((o) => o.status === 'rejected');
        const kept = resolved === -1 ? writes.length : resolved;
        // Writes are applied in call order, so the resolved ones form a prefix.
        expect(outcomes.slice(kept).every((o) => o.status === 'rejected')).toBe(true);
        const storage = await log.open();
        const state = await expectState(storage, { firstIndex: 1, lastIndex: kept * 3 });
        expectEntries(await storage.entries(1, state.lastIndex + 1), writes.slice(0, kept).flat());
      }),
  },
  {
    group,
    name: 'a reopened storage keeps accepting writes',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        await log.storage.save({ entries: makeEntries(1, 3, 1) });
        let storage = await log.reopen();
        await storage.save({ entries: makeEntries(4, 3, 2), hardState: { term: 2, vote: 'c', commit: 5 } });
        storage = await log.reopen();
        await expectState(storage, { firstIndex: 1, lastIndex: 6, hardState: { term: 2, vote: 'c', commit: 5 } });
        expectEntries(await storage.entries(1, 7), [...makeEntries(1, 3, 1), ...makeEntries(4, 3, 2)]);
      }),
  },
];
