import { ErrorCode } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectEntries, expectRaftError, makeEntries } from '../helpers.js';

const group = 'conflict truncation (Raft §5.3)';

export const truncateCases: LogStorageCase[] = [
  {
    group,
    name: 'a write starting inside the log discards the old suffix from that index on',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const old = makeEntries(1, 10, 1);
        await storage.save({ entries: old });
        const replacement = makeEntries(6, 2, 2, 40);
        await storage.save({ entries: replacement });
        await expectState(storage, { firstIndex: 1, lastIndex: 7 });
        expectEntries(await storage.entries(1, 8), [...old.slice(0, 5), ...replacement]);
        await expectRaftError(storage.entries(8, 9), ErrorCode.Unavailable);
        await expectRaftError(storage.term(8), ErrorCode.Unavailable);
        expect(await storage.term(7)).toBe(2);
      }),
  },
  {
    group,
    name: 'a write at the first index replaces the whole log',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 5, 1) });
        const replacement = makeEntries(1, 3, 2, 8);
        await storage.save({ entries: replacement });
        await expectState(storage, { firstIndex: 1, lastIndex: 3 });
        expectEntries(await storage.entries(1, 4), replacement);
      }),
  },
  {
    group,
    name: 'a replacement longer than the old suffix extends the log',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const old = makeEntries(1, 5, 1);
        await storage.save({ entries: old });
        const replacement = makeEntries(4, 6, 2, 24);
        await storage.save({ entries: replacement });
        await expectState(storage, { firstIndex: 1, lastIndex: 9 });
        expectEntries(await storage.entries(1, 10), [...old.slice(0, 3), ...replacement]);
      }),
  },
  {
    group,
    name: 'rewriting entries that are already there still discards everything after them',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 5, 1);
        await storage.save({ entries: log });
        await storage.save({ entries: log.slice(2, 5) });
        expectEntries(await storage.entries(1, 6), log);
        await storage.save({ entries: log.slice(2, 4) });
        await expectState(storage, { firstIndex: 1, lastIndex: 4 });
        expectEntries(await storage.entries(1, 5), log.slice(0, 4));
      }),
  },
  {
    group,
    name: 'truncation, new entries and hard state apply together in one write',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const old = makeEntries(1, 5, 1);
        await storage.save({ entries: old, hardState: { term: 1, vote: 'a', commit: 2 } });
        const replacement = makeEntries(3, 2, 2);
        const hardState = { term: 2, vote: 'b', commit: 3 };
        await storage.save({ entries: replacement, hardState });
        await expectState(storage, { firstIndex: 1, lastIndex: 4, hardState });
        expectEntries(await storage.entries(1, 5), [...old.slice(0, 2), ...replacement]);
      }),
  },
  {
    group,
    name: 'the log continues from the new end after a truncation',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const old = makeEntries(1, 10, 1);
        await storage.save({ entries: old });
        const replacement = makeEntries(4, 2, 3);
        await storage.save({ entries: replacement });
        await expectRaftError(storage.save({ entries: makeEntries(7, 1, 3) }), ErrorCode.InvalidArgument);
        const more = makeEntries(6, 2, 3);
        await storage.save({ entries: more });
        expectEntries(await storage.entries(1, 8), [...old.slice(0, 3), ...replacement, ...more]);
      }),
  },
  {
    group,
    name: 'a truncation that would leave the commit index beyond the last index is rejected',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 6, 1);
        await storage.save({ entries: log, hardState: { term: 1, vote: null, commit: 5 } });
        await expectRaftError(storage.save({ entries: makeEntries(3, 1, 2) }), ErrorCode.InvalidArgument);
        expectEntries(await storage.entries(1, 7), log);
      }),
  },
  {
    group,
    name: 'a truncated suffix stays gone after reopen',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        const old = makeEntries(1, 10, 1);
        await log.storage.save({ entries: old });
        const replacement = makeEntries(5, 2, 2);
        await log.storage.save({ entries: replacement });
        const storage = await log.reopen();
        await expectState(storage, { firstIndex: 1, lastIndex: 6 });
        expectEntries(await storage.entries(1, 7), [...old.slice(0, 4), ...replacement]);
        await expectRaftError(storage.entries(7, 8), ErrorCode.Unavailable);
      }),
  },
];
