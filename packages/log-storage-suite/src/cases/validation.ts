import { EntryType, ErrorCode, type Entry } from '@raftkit/core';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { entryData, expectEntries, expectRaftError, makeEntries, makeEntry } from '../helpers.js';

const group = 'input validation';

export const validationCases: LogStorageCase[] = [
  {
    group,
    name: 'entries that are not consecutive are rejected and nothing of the write is kept',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const gap = [makeEntry(1, 1), makeEntry(2, 1), makeEntry(4, 1)];
        await expectRaftError(storage.save({ entries: gap, hardState: { term: 1, vote: 'x', commit: 0 } }), ErrorCode.InvalidArgument);
        const backwards = [makeEntry(2, 1), makeEntry(1, 1)];
        await expectRaftError(storage.save({ entries: backwards }), ErrorCode.InvalidArgument);
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState: { term: 0, vote: null, commit: 0 } });
      }),
  },
  {
    group,
    name: 'a write that would leave a hole after the last index is rejected',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await expectRaftError(storage.save({ entries: makeEntries(2, 2) }), ErrorCode.InvalidArgument);
        await storage.save({ entries: makeEntries(1, 3) });
        await expectRaftError(storage.save({ entries: makeEntries(5, 1) }), ErrorCode.InvalidArgument);
        await expectState(storage, { firstIndex: 1, lastIndex: 3 });
      }),
  },
  {
    group,
    name: 'malformed entries are rejected: index or term below 1, fractions, unknown type, non-bytes',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const data = entryData(1);
        const bad: unknown[] = [
          { index: 0, term: 1, type: EntryType.Normal, data },
          { index: 1, term: 0, type: EntryType.Normal, data },
          { index: 1.5, term: 1, type: EntryType.Normal, data },
          { index: 1, term: -2, type: EntryType.Normal, data },
          { index: 1, term: 1, type: 7, data },
          { index: 1, term: 1, type: EntryType.Normal, data: 'text' },
          { index: 1, term: 1, type: EntryType.Normal, data: [1, 2] },
          null,
        ];
        for (const entry of bad) {
          await expectRaftError(storage.save({ entries: [entry as Entry] }), ErrorCode.InvalidArgument);
        }
        await expectState(storage, { firstIndex: 1, lastIndex: 0 });
      }),
  },
  {
    group,
    name: 'terms that decrease within one write are rejected (Raft §5.3 log matching)',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const entries = [makeEntry(1, 2), makeEntry(2, 1)];
        await expectRaftError(storage.save({ entries }), ErrorCode.InvalidArgument);
        await expectState(storage, { firstIndex: 1, lastIndex: 0 });
      }),
  },
  {
    group,
    name: 'a rejected write is not fatal: later writes succeed',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await expectRaftError(storage.save({ entries: makeEntries(3, 1) }), ErrorCode.InvalidArgument);
        const entries = makeEntries(1, 4);
        await storage.save({ entries });
        expectEntries(await storage.entries(1, 5), entries);
      }),
  },
  {
    group,
    name: 'a rejected write among concurrent writes affects only itself',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const first = storage.save({ entries: makeEntries(1, 5) });
        const hole = storage.save({ entries: makeEntries(7, 2) });
        const next = storage.save({ entries: makeEntries(6, 5) });
        await first;
        await expectRaftError(hole, ErrorCode.InvalidArgument);
        await next;
        await expectState(storage, { firstIndex: 1, lastIndex: 10 });
        expectEntries(await storage.entries(1, 11), makeEntries(1, 10));
      }),
  },
];
