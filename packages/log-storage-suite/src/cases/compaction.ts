import { ErrorCode } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectEntries, expectRaftError, makeEntries, makeSnapshot } from '../helpers.js';
import { installWhole } from '../snapshotHelpers.js';

const group = 'compaction';

export const compactionCases: LogStorageCase[] = [
  {
    group,
    name: 'the first index moves past the snapshot and compacted reads reject with RAFT_COMPACTED',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 20, 1);
        await storage.save({ entries: log });
        await installWhole(storage, makeSnapshot(12, 1));
        await storage.compact(12);
        await expectState(storage, { firstIndex: 13, lastIndex: 20, snapshotIndex: 12 });
        for (const lo of [1, 11, 12]) await expectRaftError(storage.entries(lo, 14), ErrorCode.Compacted);
        await expectRaftError(storage.term(11), ErrorCode.Compacted);
        expectEntries(await storage.entries(13, 21), log.slice(12));
      }),
  },
  {
    group,
    name: 'compact without a covering snapshot is rejected and discards nothing',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 5, 1);
        await storage.save({ entries: log });
        await expectRaftError(storage.compact(3), ErrorCode.InvalidArgument);
        await installWhole(storage, makeSnapshot(2, 1));
        await expectRaftError(storage.compact(4), ErrorCode.InvalidArgument);
        await expectState(storage, { firstIndex: 3, lastIndex: 5 });
        expectEntries(await storage.entries(3, 6), log.slice(2));
      }),
  },
  {
    group,
    name: 'compact at or below the snapshot index resolves and keeps every entry after the snapshot',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 8, 1);
        await storage.save({ entries: log });
        await installWhole(storage, makeSnapshot(4, 1));
        await storage.compact(4);
        await storage.compact(2);
        await storage.compact(4);
        await expectState(storage, { firstIndex: 5, lastIndex: 8, snapshotIndex: 4 });
        expectEntries(await storage.entries(5, 9), log.slice(4));
        expect(await storage.term(4)).toBe(1);
      }),
  },
  {
    group,
    name: 'malformed compact arguments reject with RAFT_INVALID_ARGUMENT',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        for (const index of [-1, 1.5, Number.NaN]) {
          await expectRaftError(storage.compact(index), ErrorCode.InvalidArgument);
        }
      }),
  },
  {
    group,
    name: 'compaction survives a reopen',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        const entries = makeEntries(1, 30, (i) => 1 + Math.floor(i / 10));
        await log.storage.save({ entries });
        await installWhole(log.storage, makeSnapshot(25, 3));
        await log.storage.compact(25);
        const storage = await log.reopen();
        await expectState(storage, { firstIndex: 26, lastIndex: 30, snapshotIndex: 25 });
        await expectRaftError(storage.entries(20, 27), ErrorCode.Compacted);
        expectEntries(await storage.entries(26, 31), entries.slice(25));
      }),
  },
];
