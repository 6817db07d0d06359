import { EntryType, ErrorCode, type Entry } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { entryData, expectEntries, expectRaftError, makeEntries, makeEntry } from '../helpers.js';

const group = 'append and read';

/** Ten entries with mixed terms, types and payload sizes (including empty). */
function mixedEntries(): Entry[] {
  const terms = [1, 1, 1, 2, 2, 3, 3, 3, 5, 5];
  return terms.map((term, i) => {
    const index = i + 1;
    if (index === 4) return makeEntry(index, term, { type: EntryType.Noop, data: new Uint8Array(0) });
    return makeEntry(index, term, { size: [0, 1, 7, 0, 64, 255, 256, 1000, 4096, 3][i] });
  });
}

export const appendReadCases: LogStorageCase[] = [
  {
    group,
    name: 'appended entries read back exactly: index, term, type and bytes',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const entries = mixedEntries();
        await storage.save({ entries });
        await expectState(storage, { firstIndex: 1, lastIndex: 10 });
        expectEntries(await storage.entries(1, 11), entries);
      }),
  },
  {
    group,
    name: 'sub-ranges read the half-open interval [lo, hi)',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const entries = mixedEntries();
        await storage.save({ entries });
        expectEntries(await storage.entries(3, 7), entries.slice(2, 6));
        expectEntries(await storage.entries(10, 11), entries.slice(9));
        expectEntries(await storage.entries(1, 2), entries.slice(0, 1));
        expect(await storage.entries(5, 5)).toEqual([]);
        expect(await storage.entries(11, 11)).toEqual([]);
      }),
  },
  {
    group,
    name: 'reading past the last index rejects with RAFT_UNAVAILABLE',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 10) });
        await expectRaftError(storage.entries(1, 12), ErrorCode.Unavailable);
        await expectRaftError(storage.entries(11, 12), ErrorCode.Unavailable);
        await expectRaftError(storage.entries(20, 30), ErrorCode.Unavailable);
      }),
  },
  {
    group,
    name: 'successive writes extend the log',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const all = makeEntries(1, 12, (i) => 1 + Math.floor(i / 5));
        await storage.save({ entries: all.slice(0, 1) });
        await storage.save({ entries: all.slice(1, 5) });
        await storage.save({ entries: all.slice(5, 12) });
        await expectState(storage, { firstIndex: 1, lastIndex: 12 });
        expectEntries(await storage.entries(1, 13), all);
      }),
  },
  {
    group,
    name: 'term(i) answers for every held entry and rejects past the end',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const entries = mixedEntries();
        await storage.save({ entries });
        for (const e of entries) expect(await storage.term(e.index), `term(${e.index})`).toBe(e.term);
        await expectRaftError(storage.term(11), ErrorCode.Unavailable);
      }),
  },
  {
    group,
    name: "the storage keeps a copy: mutating the caller's bytes after save() does not change it",
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const data = entryData(1, 32);
        const original = data.slice();
        const entries = [{ index: 1, term: 1, type: EntryType.Normal, data }];
        const saved = storage.save({ entries });
        data[0] ^= 0xff; // before the write resolves
        await saved;
        data[1] ^= 0xff; // and after
        expectEntries(await storage.entries(1, 2), [makeEntry(1, 1, { data: original })]);
      }),
  },
];
