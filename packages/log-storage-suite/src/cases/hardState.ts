import { ErrorCode, type HardState } from '@raftkit/core';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectEntries, expectRaftError, makeEntries } from '../helpers.js';

const group = 'hard state';

export const hardStateCases: LogStorageCase[] = [
  {
    group,
    name: 'term, vote and commit round trip, and a later write replaces them',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ hardState: { term: 3, vote: 'n1', commit: 0 } });
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState: { term: 3, vote: 'n1', commit: 0 } });
        await storage.save({ hardState: { term: 4, vote: null, commit: 0 } });
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState: { term: 4, vote: null, commit: 0 } });
      }),
  },
  {
    group,
    name: 'unusual values survive: unicode and long node ids, the largest safe term',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const vote = `nœud-☃-${'x'.repeat(300)}`;
        const hardState = { term: Number.MAX_SAFE_INTEGER, vote, commit: 0 };
        await storage.save({ hardState });
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState });
        await storage.save({ hardState: { term: 1, vote: '', commit: 0 } });
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState: { term: 1, vote: '', commit: 0 } });
      }),
  },
  {
    group,
    name: 'hard state and entries are saved together in one write',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const entries = makeEntries(1, 3, 2);
        const hardState = { term: 2, vote: 'a', commit: 3 };
        await storage.save({ hardState, entries });
        await expectState(storage, { firstIndex: 1, lastIndex: 3, hardState });
        expectEntries(await storage.entries(1, 4), entries);
      }),
  },
  {
    group,
    name: 'a hard-state-only write leaves the log untouched',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const entries = makeEntries(1, 5);
        await storage.save({ entries });
        await storage.save({ hardState: { term: 1, vote: 'b', commit: 4 } });
        await expectState(storage, { firstIndex: 1, lastIndex: 5, hardState: { term: 1, vote: 'b', commit: 4 } });
        expectEntries(await storage.entries(1, 6), entries);
      }),
  },
  {
    group,
    name: 'a commit index beyond the last index is rejected and nothing of the write is kept',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 3) });
        await expectRaftError(storage.save({ hardState: { term: 1, vote: null, commit: 4 } }), ErrorCode.InvalidArgument);
        await expectRaftError(
          storage.save({ hardState: { term: 1, vote: null, commit: 9 }, entries: makeEntries(4, 2) }),
          ErrorCode.InvalidArgument,
        );
        await expectState(storage, { firstIndex: 1, lastIndex: 3, hardState: { term: 0, vote: null, commit: 0 } });
      }),
  },
  {
    group,
    name: 'malformed hard states reject with RAFT_INVALID_ARGUMENT',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const bad = [
          { term: -1, vote: null, commit: 0 },
          { term: 1.5, vote: null, commit: 0 },
          { term: 1, vote: null, commit: -1 },
          { term: 1, vote: 42, commit: 0 },
          { term: 1, vote: undefined, commit: 0 },
        ] as unknown as HardState[];
        for (const hardState of bad) {
          await expectRaftError(storage.save({ hardState }), ErrorCode.InvalidArgument);
        }
        await expectState(storage, { firstIndex: 1, lastIndex: 0, hardState: { term: 0, vote: null, commit: 0 } });
      }),
  },
  {
    group,
    name: 'the hard state survives a reopen',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        await log.storage.save({ hardState: { term: 7, vote: 'n3', commit: 2 }, entries: makeEntries(1, 2, 7) });
        const storage = await log.reopen();
        await expectState(storage, { firstIndex: 1, lastIndex: 2, hardState: { term: 7, vote: 'n3', commit: 2 } });
      }),
  },
];
