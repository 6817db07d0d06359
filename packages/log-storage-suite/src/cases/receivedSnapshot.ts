import { ErrorCode } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectEntries, expectRaftError, makeEntries } from '../helpers.js';
import { expectInstalled, sha256, snapMeta, snapshotData, streaming, takeSnapshot, writeChunks, writeSnapshot } from '../snapshotHelpers.js';

const group = 'streaming snapshots: receiving, resuming, compacting, restarting';

const bytes = snapshotData(20, 200_003);
const expected = { size: bytes.length, checksum: sha256(bytes) };

export const receivedSnapshotCases: LogStorageCase[] = [
  {
    group,
    name: 'a received snapshot resumes at the bytes written so far, and a different one starts again at 0',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const { create } = streaming(storage);
        const meta = snapMeta(30, 4);
        const first = await create(meta, expected);
        expect(first.written).toBe(0);
        await writeChunks(first, bytes.subarray(0, 70_001), [30_000]);
        const resumed = await create(meta, expected);
        expect(resumed.written, 'resumed writer').toBe(70_001);
        const other = { size: bytes.length, checksum: sha256(snapshotData(21, bytes.length)) };
        expect((await create(meta, other)).written, 'same meta, other checksum').toBe(0);
        expect((await create(meta, expected)).written, 'the first partial was discarded by the other one').toBe(0);
      }),
  },
  {
    group,
    name: 'a received snapshot resumes after a restart and installs with the expected bytes',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        await log.storage.save({ entries: makeEntries(1, 3, 1) });
        const meta = snapMeta(30, 4);
        const writer = await streaming(log.storage).create(meta, expected);
        await writeChunks(writer, bytes.subarray(0, 123_457), [40_000, 3]);
        const storage = await log.reopen();
        const resumed = await streaming(storage).create(meta, expected);
        expect(resumed.written, 'resumed after reopen').toBe(123_457);
        await writeChunks(resumed, bytes, [10_007]);
        const info = await resumed.finish();
        expect(info).toMatchObject({ size: expected.size, checksum: expected.checksum });
        // A finished received snapshot resumes as complete, also after a restart.
        const again = await streaming(await log.reopen()).create(meta, expected);
        expect(again.written).toBe(bytes.length);
        await again.finish();
        await log.storage.installSnapshot(meta);
        await expectState(log.storage, { firstIndex: 31, lastIndex: 30, snapshotIndex: 30 });
        await expectInstalled(log.storage, meta, bytes);
        await expectInstalled(await log.reopen(), meta, bytes);
      }),
  },
  {
    group,
    name: 'writing past the expected size rejects with RAFT_INVALID_ARGUMENT',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const writer = await streaming(storage).create(snapMeta(3, 1), { size: 10, checksum: sha256(snapshotData(22, 10)) });
        await writer.write(snapshotData(22, 8));
        await expectRaftError(writer.write(new Uint8Array(3)), ErrorCode.InvalidArgument);
        expect(writer.written).toBe(8);
      }),
  },
  {
    group,
    name: 'bytes that do not match the expected checksum are refused with RAFT_SNAPSHOT_CORRUPT and discarded',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const { create } = streaming(storage);
        const meta = snapMeta(30, 4);
        const wrong = Uint8Array.from(bytes);
        wrong[100_000] ^= 1;
        const writer = await create(meta, expected);
        await writeChunks(writer, wrong, [65_536]);
        await expectRaftError(writer.finish(), ErrorCode.SnapshotCorrupt);
        await expectRaftError(storage.installSnapshot(meta), ErrorCode.InvalidArgument);
        const retry = await create(meta, expected);
        expect(retry.written, 'after a refused finish').toBe(0);
        const short = await create(snapMeta(31, 4), expected);
        await short.write(bytes.subarray(0, 10));
        await expectRaftError(short.finish(), ErrorCode.SnapshotCorrupt);
        expect((await create(snapMeta(31, 4), expected)).written, 'after a refused short one').toBe(0);
        expect(await streaming(storage).open()).toBeNull();
      }),
  },
  {
    group,
    name: 'compact below the snapshot keeps the trailing log, and term() at its start and at the snapshot',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 20, (i) => 1 + Math.floor(i / 6));
        await storage.save({ entries: log });
        await takeSnapshot(storage, snapMeta(15, 3), snapshotData(23, 100));
        await storage.compact(10);
        await expectState(storage, { firstIndex: 11, lastIndex: 20, snapshotIndex: 15 });
        expect(await storage.term(10), 'term at the compacted index').toBe(log[9].term);
        expect(await storage.term(15), 'term at the snapshot').toBe(3);
        expectEntries(await storage.entries(11, 21), log.slice(10));
        await expectRaftError(storage.entries(10, 12), ErrorCode.Compacted);
        await expectRaftError(storage.term(9), ErrorCode.Compacted);
        await storage.compact(7); // below the log start: nothing to do
        await expectRaftError(storage.compact(16), ErrorCode.InvalidArgument);
        await storage.compact(15);
        await expectState(storage, { firstIndex: 16, lastIndex: 20, snapshotIndex: 15 });
        expect(await storage.term(15)).toBe(3);
        expectEntries(await storage.entries(16, 21), log.slice(15));
      }),
  },
  {
    group,
    name: 'entries the snapshot covers cannot be rewritten, even while the log still holds them',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 10, 1);
        await storage.save({ entries: log });
        await takeSnapshot(storage, snapMeta(6, 1), snapshotData(24, 10));
        await expectRaftError(storage.save({ entries: makeEntries(5, 2, 2) }), ErrorCode.InvalidArgument);
        await storage.save({ entries: makeEntries(7, 2, 2) });
        await expectState(storage, { firstIndex: 1, lastIndex: 8, snapshotIndex: 6 });
        expectEntries(await storage.entries(1, 9), [...log.slice(0, 6), ...makeEntries(7, 2, 2)]);
      }),
  },
  {
    group,
    name: 'after a restart: the installed snapshot, the trailing log and term() are intact; unfinished local snapshots are gone',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        const entries = makeEntries(1, 20, (i) => 1 + Math.floor(i / 6));
        await log.storage.save({ entries, hardState: { term: 4, vote: 'a', commit: 18 } });
        const snap = snapshotData(25, 150_000);
        await takeSnapshot(log.storage, snapMeta(15, 3), snap);
        await log.storage.compact(10);
        const local = await streaming(log.storage).create(snapMeta(18, 4));
        await local.write(snapshotData(26, 1000));
        await writeSnapshot(log.storage, snapMeta(17, 3), snapshotData(27, 10));
        const storage = await log.reopen();
        await expectState(storage, { firstIndex: 11, lastIndex: 20, snapshotIndex: 15, hardState: { term: 4, vote: 'a', commit: 18 } });
        expect(await storage.term(10)).toBe(entries[9].term);
        expect(await storage.term(15)).toBe(3);
        expectEntries(await storage.entries(11, 21), entries.slice(10));
        await expectInstalled(storage, snapMeta(15, 3), snap);
        // The unfinished local snapshot cannot be installed; a new one starts empty.
        await expectRaftError(storage.installSnapshot(snapMeta(18, 4)), ErrorCode.InvalidArgument);
        expect((await streaming(storage).create(snapMeta(18, 4))).written).toBe(0);
        await expectInstalled(await log.reopen(), snapMeta(15, 3), snap);
      }),
  },
  {
    group,
    name: 'a received snapshot finished before a restart can be installed after it',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        const meta = snapMeta(40, 5);
        await writeSnapshot(log.storage, meta, bytes, expected);
        const storage = await log.reopen();
        await storage.installSnapshot(meta);
        await expectState(storage, { firstIndex: 41, lastIndex: 40, snapshotIndex: 40 });
        await expectInstalled(storage, meta, bytes);
      }),
  },
];
