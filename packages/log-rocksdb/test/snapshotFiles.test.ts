// Snapshot files on disk: where they are, what open() keeps and deletes, and damage detected
// by the per-block CRC-32C and the trailer.
import { ErrorCode } from '@raftkit/core';
import { expectRaftError, makeEntries, sha256, snapMeta, snapshotData, takeSnapshot, writeChunks } from '@raftkit/log-storage-suite';
import { open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RocksLogStorage } from '../src/index.js';
import { snapshotPointerKey } from '../src/codec.js';
import { BLOCK_BYTES, FOOTER_BYTES, SNAPSHOT_DIR } from '../src/snapshotFiles.js';
import { withRawDb } from './rawDb.js';
import { makeTempDir, removeDir } from './tempDir.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeDir(dir));

const files = async (): Promise<string[]> => (await readdir(join(dir, SNAPSHOT_DIR))).sort();
const bytes = snapshotData(1, 3 * BLOCK_BYTES + 1000);

async function installed(): Promise<string> {
  const storage = await RocksLogStorage.open(dir);
  await storage.save({ entries: makeEntries(1, 10, 1) });
  await takeSnapshot(storage, snapMeta(8, 1), bytes);
  await storage.close();
  const [name] = await files();
  return join(dir, SNAPSHOT_DIR, name!);
}

async function flipFileByte(path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, offset);
  b[0] ^= 0x10;
  await fh.write(b, 0, 1, offset);
  await fh.close();
}

describe('snapshot files', () => {
  test('the bytes live in one file under snapshots/ with a CRC table and footer; RocksDB holds only a small pointer', async () => {
    const path = await installed();
    expect((await stat(path)).size).toBe(bytes.length + 4 * 4 + FOOTER_BYTES);
    const pointer = await withRawDb(dir, (db) => db.get(snapshotPointerKey));
    expect(pointer.length).toBeLessThan(200);
  });

  test('a flipped byte in the data is RAFT_STORAGE_CORRUPT for reads of its block only', async () => {
    const path = await installed();
    await flipFileByte(path, 2 * BLOCK_BYTES + 5);
    const storage = await RocksLogStorage.open(dir);
    const reader = (await storage.openSnapshot())!;
    expect(Buffer.from(await reader.read(0, 2 * BLOCK_BYTES)).equals(Buffer.from(bytes.subarray(0, 2 * BLOCK_BYTES)))).toBe(true);
    const err = await expectRaftError(reader.read(2 * BLOCK_BYTES + 100, 10), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/failed the checksum of block 2/);
    await expectRaftError((async () => { for await (const _ of reader.stream()) void _; })(), ErrorCode.StorageCorrupt);
    await reader.close();
    await storage.close();
  });

  test('a damaged trailer, a truncated file or a missing file is RAFT_STORAGE_CORRUPT', async () => {
    const path = await installed();
    await flipFileByte(path, bytes.length + 2); // the CRC table
    let storage = await RocksLogStorage.open(dir);
    expect((await expectRaftError(storage.openSnapshot(), ErrorCode.StorageCorrupt)).message).toMatch(/damaged block checksum table/);
    await storage.close();
    await flipFileByte(path, bytes.length + 2);
    const fh = await open(path, 'r+');
    await fh.truncate(bytes.length + 10);
    await fh.close();
    storage = await RocksLogStorage.open(dir);
    await expectRaftError(storage.openSnapshot(), ErrorCode.StorageCorrupt);
    await storage.close();
    await rm(path);
    expect((await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt)).message).toMatch(/installed snapshot's file .* is missing/);
  });

  test('open deletes unfinished local snapshots, stray files and received ones at or below the installed index; keeps received ones above', async () => {
    await installed();
    let storage = await RocksLogStorage.open(dir);
    const local = await storage.createSnapshot(snapMeta(9, 1));
    await local.write(bytes.subarray(0, 100));
    const finishedLocal = await storage.createSnapshot(snapMeta(10, 1));
    await finishedLocal.finish();
    const expected = { size: bytes.length, checksum: sha256(bytes) };
    const above = await storage.createSnapshot(snapMeta(20, 2), expected);
    await writeChunks(above, bytes.subarray(0, 5000));
    await storage.close();
    await writeFile(join(dir, SNAPSHOT_DIR, 'stray.tmp'), 'x');
    expect(await files()).toHaveLength(5);
    storage = await RocksLogStorage.open(dir);
    const kept = await files();
    expect(kept).toHaveLength(2);
    expect(kept.some((n) => n.startsWith('recv-20-2-') && n.endsWith('.part'))).toBe(true);
    expect((await storage.createSnapshot(snapMeta(20, 2), expected)).written).toBe(5000);
    await storage.close();
  });

  test('installing a received snapshot deletes the replaced file and every other one at or below it', async () => {
    await installed();
    const storage = await RocksLogStorage.open(dir);
    const other = await storage.createSnapshot(snapMeta(9, 1), { size: 10, checksum: sha256(new Uint8Array(10)) });
    await other.write(new Uint8Array(4));
    const data = snapshotData(2, 5000);
    const writer = await storage.createSnapshot(snapMeta(30, 3), { size: data.length, checksum: sha256(data) });
    await writer.write(data);
    await writer.finish();
    expect(await files()).toHaveLength(2); // the other received partial was discarded by the new one
    await storage.installSnapshot(snapMeta(30, 3));
    const left = await files();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^recv-30-3-5000-[0-9a-f]{64}-[0-9a-f]{16}\.snap$/);
    expect(await storage.state()).toMatchObject({ firstIndex: 31, lastIndex: 30 });
    await storage.close();
  });
});
