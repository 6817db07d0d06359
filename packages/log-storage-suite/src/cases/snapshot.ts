import { ErrorCode, type Snapshot } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectEntries, expectRaftError, expectSnapshot, makeEntries, makeSnapshot } from '../helpers.js';
import { installWhole, readSnapshot } from '../snapshotHelpers.js';

const group = 'snapshots (Raft §7)';

export const snapshotCases: LogStorageCase[] = [
  {
    group,
    name: 'a snapshot ahead of the log replaces the whole log',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 5, 1) });
        const snap = makeSnapshot(10, 3);
        await installWhole(storage, snap);
        await expectState(storage, { firstIndex: 11, lastIndex: 10, snapshotIndex: 10 });
        expectSnapshot(await readSnapshot(storage), snap);
        expect(await storage.term(10)).toBe(3);
        await expectRaftError(storage.term(9), ErrorCode.Compacted);
        await expectRaftError(storage.term(11), ErrorCode.Unavailable);
        await expectRaftError(storage.entries(5, 6), ErrorCode.Compacted);
        await expectRaftError(storage.entries(10, 11), ErrorCode.Compacted);
        expect(await storage.entries(11, 11)).toEqual([]);
      }),
  },
  {
    group,
    name: 'the log continues right after a snapshot, and nowhere else',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await installWhole(storage, makeSnapshot(10, 3));
        await expectRaftError(storage.save({ entries: makeEntries(12, 1, 3) }), ErrorCode.InvalidArgument);
        await expectRaftError(storage.save({ entries: makeEntries(10, 2, 3) }), ErrorCode.InvalidArgument);
        const entries = makeEntries(11, 2, 4);
        await storage.save({ entries });
        await expectState(storage, { firstIndex: 11, lastIndex: 12 });
        expectEntries(await storage.entries(11, 13), entries);
      }),
  },
  {
    group,
    name: 'a snapshot that agrees with the log keeps the entries after it',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 10, (i) => (i <= 5 ? 1 : 2));
        await storage.save({ entries: log });
        await installWhole(storage, makeSnapshot(7, 2));
        await expectState(storage, { firstIndex: 8, lastIndex: 10, snapshotIndex: 7 });
        expectEntries(await storage.entries(8, 11), log.slice(7));
        expect(await storage.term(7)).toBe(2);
        await expectRaftError(storage.term(6), ErrorCode.Compacted);
        await expectRaftError(storage.entries(7, 9), ErrorCode.Compacted);
      }),
  },
  {
    group,
    name: 'a snapshot that disagrees with the log (other term at its index) discards the whole log',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 10, 1) });
        await installWhole(storage, makeSnapshot(7, 2));
        await expectState(storage, { firstIndex: 8, lastIndex: 7, snapshotIndex: 7 });
        expect(await storage.term(7)).toBe(2);
        await expectRaftError(storage.term(8), ErrorCode.Unavailable);
        await expectRaftError(storage.entries(8, 9), ErrorCode.Unavailable);
      }),
  },
  {
    group,
    name: 'a snapshot at the last index leaves an empty log after it',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 5, 1) });
        await installWhole(storage, makeSnapshot(5, 1));
        await expectState(storage, { firstIndex: 6, lastIndex: 5, snapshotIndex: 5 });
        expect(await storage.entries(6, 6)).toEqual([]);
      }),
  },
  {
    group,
    name: 'a newer snapshot replaces the older one, data and metadata',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await installWhole(storage, makeSnapshot(5, 1, ['a']));
        const log = makeEntries(6, 5, 2);
        await storage.save({ entries: log });
        const newer = makeSnapshot(8, 2, ['a', 'b']);
        await installWhole(storage, newer);
        expectSnapshot(await readSnapshot(storage), newer);
        await expectState(storage, { firstIndex: 9, lastIndex: 10, snapshotIndex: 8 });
        expectEntries(await storage.entries(9, 11), log.slice(3));
        await expectRaftError(storage.term(5), ErrorCode.Compacted);
      }),
  },
  {
    group,
    name: 'an older snapshot than the stored one is rejected and changes nothing',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const snap = makeSnapshot(8, 2);
        await installWhole(storage, snap);
        await expectRaftError(installWhole(storage, makeSnapshot(5, 1)), ErrorCode.InvalidArgument);
        expectSnapshot(await readSnapshot(storage), snap);
        await expectState(storage, { firstIndex: 9, lastIndex: 8, snapshotIndex: 8 });
      }),
  },
  {
    group,
    name: 'empty snapshot data and the voters list are kept as given; the hard state is untouched',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const hardState = { term: 4, vote: 'z', commit: 0 };
        await storage.save({ hardState });
        const snap: Snapshot = { meta: { index: 3, term: 2, voters: ['n3', 'n1', 'ünï'] }, data: new Uint8Array(0) };
        await installWhole(storage, snap);
        expectSnapshot(await readSnapshot(storage), snap);
        await expectState(storage, { firstIndex: 4, lastIndex: 3, hardState });
      }),
  },
  {
    group,
    name: 'a disagreeing snapshot below the commit index is rejected (it would discard committed entries)',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 10, 1);
        await storage.save({ entries: log, hardState: { term: 1, vote: null, commit: 8 } });
        await expectRaftError(installWhole(storage, makeSnapshot(5, 2)), ErrorCode.InvalidArgument);
        await expectState(storage, { firstIndex: 1, lastIndex: 10, snapshotIndex: null });
        expectEntries(await storage.entries(1, 11), log);
      }),
  },
  {
    group,
    name: 'malformed snapshots reject with RAFT_INVALID_ARGUMENT',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const data = new Uint8Array(4);
        const bad = [
          { meta: { index: 0, term: 1, voters: [] }, data },
          { meta: { index: 3, term: 0, voters: [] }, data },
          { meta: { index: 2.5, term: 1, voters: [] }, data },
          { meta: { index: 3, term: 1, voters: 'a' }, data },
          { meta: { index: 3, term: 1, voters: [1] }, data },
          { meta: { index: 3, term: 1, voters: [] }, data: 'x' },
        ] as unknown as Snapshot[];
        for (const snap of bad) await expectRaftError(installWhole(storage, snap), ErrorCode.InvalidArgument);
        expect(await readSnapshot(storage)).toBeNull();
      }),
  },
  {
    group,
    name: 'snapshot, log after it and term at its index survive a reopen',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        await log.storage.save({ entries: makeEntries(1, 10, 1) });
        const snap = makeSnapshot(6, 1);
        await installWhole(log.storage, snap);
        const storage = await log.reopen();
        await expectState(storage, { firstIndex: 7, lastIndex: 10, snapshotIndex: 6 });
        expectSnapshot(await readSnapshot(storage), snap);
        expect(await storage.term(6)).toBe(1);
        expectEntries(await storage.entries(7, 11), makeEntries(7, 4, 1));
        await expectRaftError(storage.entries(6, 7), ErrorCode.Compacted);
      }),
  },
];
