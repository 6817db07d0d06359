import { ErrorCode } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectEntries, expectRaftError, makeEntries, sameBytes } from '../helpers.js';
import { expectInstalled, sha256, snapMeta, snapshotData, streamAll, streaming, takeSnapshot, writeChunks, writeSnapshot } from '../snapshotHelpers.js';

const group = 'streaming snapshots: write, read, install';

export const streamingSnapshotCases: LogStorageCase[] = [
  {
    group,
    name: 'a 5 MiB snapshot written in odd-sized chunks reads back identically through read() and stream()',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 10, 1) });
        const bytes = snapshotData(1, 5 * 1024 * 1024 + 3);
        const meta = snapMeta(8, 1);
        const writer = await streaming(storage).create(meta);
        expect(writer.written).toBe(0);
        await writeChunks(writer, bytes, [1, 65_521, 7, 1_000_003, 333_333]);
        expect(writer.written).toBe(bytes.length);
        const info = await writer.finish();
        expect(info.size).toBe(bytes.length);
        expect(info.checksum).toBe(sha256(bytes));
        expect(info.checksum).toMatch(/^[0-9a-f]{64}$/);
        await storage.installSnapshot(meta);
        await expectInstalled(storage, meta, bytes);
        const reader = (await streaming(storage).open())!;
        try {
          expect(sameBytes(await streamAll(reader, 1_234_567, 99_991), bytes.subarray(1_234_567)), 'stream(offset, chunkBytes)').toBe(true);
          expect(sameBytes(await reader.read(4_000_000, 300_000), bytes.subarray(4_000_000, 4_300_000)), 'read in the middle').toBe(true);
          expect((await reader.read(bytes.length - 5, 100)).length, 'read at the end').toBe(5);
          expect((await reader.read(bytes.length, 100)).length, 'read at size').toBe(0);
          expect((await reader.read(bytes.length + 9, 1)).length, 'read past size').toBe(0);
          expect((await streamAll(reader, bytes.length)).length, 'stream from size').toBe(0);
        } finally {
          await reader.close();
        }
      }),
  },
  {
    group,
    name: 'a local snapshot always starts empty and is invisible until installed',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 5, 1) });
        const meta = snapMeta(4, 1);
        const first = await streaming(storage).create(meta);
        await first.write(snapshotData(2, 1000));
        await first.abort();
        const second = await streaming(storage).create(meta);
        expect(second.written, 'a new local writer after an aborted one').toBe(0);
        const bytes = snapshotData(3, 777);
        await writeChunks(second, bytes, [100]);
        const again = await streaming(storage).create(meta);
        expect(again.written, 'a new local writer beside an unfinished one').toBe(0);
        await again.abort();
        await second.finish();
        expect(await streaming(storage).open(), 'openSnapshot() before install').toBeNull();
        await expectState(storage, { firstIndex: 1, lastIndex: 5, snapshotIndex: null });
        await storage.installSnapshot(meta);
        await expectInstalled(storage, meta, bytes);
      }),
  },
  {
    group,
    name: 'an empty snapshot has size 0 and the SHA-256 of nothing',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 2, 1) });
        const info = await writeSnapshot(storage, snapMeta(2, 1), new Uint8Array(0));
        expect(info).toMatchObject({ size: 0, checksum: sha256(new Uint8Array(0)) });
        await storage.installSnapshot(snapMeta(2, 1));
        await expectInstalled(storage, snapMeta(2, 1), new Uint8Array(0));
      }),
  },
  {
    group,
    name: 'installing a meta with no finished snapshot rejects with RAFT_INVALID_ARGUMENT and changes nothing',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 6, 1) });
        await expectRaftError(storage.installSnapshot(snapMeta(5, 1)), ErrorCode.InvalidArgument);
        const writer = await streaming(storage).create(snapMeta(5, 1));
        await writer.write(snapshotData(4, 10));
        await expectRaftError(storage.installSnapshot(snapMeta(5, 1)), ErrorCode.InvalidArgument);
        await writer.finish();
        await expectRaftError(storage.installSnapshot(snapMeta(5, 2)), ErrorCode.InvalidArgument);
        await expectRaftError(storage.installSnapshot(snapMeta(4, 1)), ErrorCode.InvalidArgument);
        await expectState(storage, { firstIndex: 1, lastIndex: 6, snapshotIndex: null });
        expect(await streaming(storage).open()).toBeNull();
      }),
  },
  {
    group,
    name: 'install keeps a log that holds its entry whole (compaction is a separate step)',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const log = makeEntries(1, 12, (i) => (i <= 6 ? 1 : 2));
        await storage.save({ entries: log });
        const meta = snapMeta(9, 2);
        const bytes = snapshotData(5, 4096);
        await takeSnapshot(storage, meta, bytes);
        await expectState(storage, { firstIndex: 1, lastIndex: 12, snapshotIndex: 9 });
        expectEntries(await storage.entries(1, 13), log);
        expect(await storage.term(9)).toBe(2);
        await expectInstalled(storage, meta, bytes);
      }),
  },
  {
    group,
    name: 'install drops a log that conflicts with it (other term, or too short) and starts the log after it',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 12, 1) });
        const meta = snapMeta(9, 3);
        await takeSnapshot(storage, meta, snapshotData(6, 100));
        await expectState(storage, { firstIndex: 10, lastIndex: 9, snapshotIndex: 9 });
        expect(await storage.term(9)).toBe(3);
        await expectRaftError(storage.entries(9, 10), ErrorCode.Compacted);
        await expectRaftError(storage.term(10), ErrorCode.Unavailable);
        const ahead = snapMeta(20, 3);
        await takeSnapshot(storage, ahead, snapshotData(7, 100));
        await expectState(storage, { firstIndex: 21, lastIndex: 20, snapshotIndex: 20 });
        expect(await storage.term(20)).toBe(3);
        await storage.save({ entries: makeEntries(21, 2, 4) });
        expectEntries(await storage.entries(21, 23), makeEntries(21, 2, 4));
      }),
  },
  {
    group,
    name: 'an older snapshot than the installed one is refused; a newer one replaces it',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 20, 1) });
        await takeSnapshot(storage, snapMeta(10, 1), snapshotData(8, 50));
        await writeSnapshot(storage, snapMeta(6, 1), snapshotData(9, 50));
        await expectRaftError(storage.installSnapshot(snapMeta(6, 1)), ErrorCode.InvalidArgument);
        await expectInstalled(storage, snapMeta(10, 1), snapshotData(8, 50));
        await takeSnapshot(storage, snapMeta(15, 1), snapshotData(10, 70));
        await expectInstalled(storage, snapMeta(15, 1), snapshotData(10, 70));
        await expectState(storage, { firstIndex: 1, lastIndex: 20, snapshotIndex: 15 });
      }),
  },
  {
    group,
    name: 'a reader of the old snapshot keeps reading it after a newer one is installed; readers run side by side',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 20, 1) });
        const old = snapshotData(11, 300_000);
        await takeSnapshot(storage, snapMeta(5, 1), old);
        const reader = (await streaming(storage).open())!;
        const other = (await streaming(storage).open())!;
        try {
          const head = await reader.read(0, 1000);
          const newer = snapshotData(12, 200_000);
          await takeSnapshot(storage, snapMeta(12, 1), newer);
          await storage.compact(12);
          expect(reader.meta.index).toBe(5);
          const [a, b] = await Promise.all([streamAll(reader, 1000, 4096), streamAll(other, 0, 65_536)]);
          expect(sameBytes(Buffer.concat([head, a]), old), 'old reader after the new install').toBe(true);
          expect(sameBytes(b, old), 'second old reader').toBe(true);
          await expectInstalled(storage, snapMeta(12, 1), newer);
        } finally {
          await reader.close();
          await other.close();
          await reader.close();
        }
      }),
  },
  {
    group,
    name: 'malformed streaming arguments reject with RAFT_INVALID_ARGUMENT',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 3, 1) });
        const { create } = streaming(storage);
        await expectRaftError(create({ index: 0, term: 1, voters: [] }), ErrorCode.InvalidArgument);
        await expectRaftError(create(snapMeta(2, 1), { size: -1, checksum: sha256(new Uint8Array(0)) }), ErrorCode.InvalidArgument);
        await expectRaftError(create(snapMeta(2, 1), { size: 1, checksum: 'ABC' }), ErrorCode.InvalidArgument);
        await expectRaftError(storage.installSnapshot({ index: 2.5, term: 1, voters: [] }), ErrorCode.InvalidArgument);
        await takeSnapshot(storage, snapMeta(2, 1), snapshotData(13, 10));
        const reader = (await streaming(storage).open())!;
        await expectRaftError(reader.read(-1, 1), ErrorCode.InvalidArgument);
        await expectRaftError(reader.read(0, 1.5), ErrorCode.InvalidArgument);
        await reader.close();
      }),
  },
];
