import { ErrorCode, emptyHardState } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectRaftError, makeEntries } from '../helpers.js';
import { readSnapshot } from '../snapshotHelpers.js';

const group = 'empty log';

export const emptyLogCases: LogStorageCase[] = [
  {
    group,
    name: 'a new storage holds no entries, no snapshot and the empty hard state',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState: emptyHardState, snapshotIndex: null });
        expect(await readSnapshot(storage)).toBeNull();
      }),
  },
  {
    group,
    name: 'reads on an empty log: empty range, unavailable and compacted indexes, term(0) = 0',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        expect(await storage.entries(1, 1)).toEqual([]);
        await expectRaftError(storage.entries(1, 2), ErrorCode.Unavailable);
        await expectRaftError(storage.entries(0, 1), ErrorCode.Compacted);
        // Index 0 stands for the empty snapshot every log starts from.
        expect(await storage.term(0)).toBe(0);
        await expectRaftError(storage.term(1), ErrorCode.Unavailable);
      }),
  },
  {
    group,
    name: 'an empty write resolves and changes nothing',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({});
        await storage.save({ entries: [] });
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState: emptyHardState });
      }),
  },
  {
    group,
    name: 'malformed read arguments reject with RAFT_INVALID_ARGUMENT',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 3) });
        for (const [lo, hi] of [[3, 2], [-1, 1], [1.5, 2], [Number.NaN, 2], [1, Infinity]]) {
          await expectRaftError(storage.entries(lo, hi), ErrorCode.InvalidArgument);
        }
        for (const index of [-1, 0.5, Number.NaN]) {
          await expectRaftError(storage.term(index), ErrorCode.InvalidArgument);
        }
      }),
  },
  {
    group,
    name: 'an empty log reopens empty',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        const storage = await log.reopen();
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState: emptyHardState, snapshotIndex: null });
        expect(await readSnapshot(storage)).toBeNull();
      }),
  },
];
