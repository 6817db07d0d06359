import { ErrorCode } from '@raftkit/core';
import { expectEntries, expectRaftError, makeEntries, makeSnapshot } from '@raftkit/log-storage-suite';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RocksLogStorage } from '../src/index.js';
import { FORMAT_VERSION, encodeVersion, entryKey, hardStateKey, logStartKey, snapshotPointerKey, versionKey } from '../src/codec.js';
import { WATERMARK_FILE } from '../src/watermark.js';
import { flipByte, withRawDb } from './rawDb.js';
import { makeTempDir, removeDir } from './tempDir.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeDir(dir));

async function seed(count = 50, options = {}): Promise<void> {
  const storage = await RocksLogStorage.open(dir, options);
  await storage.save({ entries: makeEntries(1, count, 1, 100), hardState: { term: 1, vote: 'a', commit: Math.min(count, 10) } });
  await storage.close();
}

describe('corruption is detected, never returned as data', () => {
  test('a flipped payload byte in an old entry: open succeeds, reading it rejects naming the index', async () => {
    await seed(50);
    await flipByte(dir, entryKey(7), -1);
    const storage = await RocksLogStorage.open(dir, { verifyOnOpen: 10 });
    const err = await expectRaftError(storage.entries(5, 10), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/log entry 7 failed its checksum/);
    expect(err.fatal).toBe(true);
    await expectRaftError(storage.term(7), ErrorCode.StorageCorrupt);
    expectEntries(await storage.entries(8, 51), makeEntries(8, 43, 1, 100));
    await storage.close();
  });

  test('a flipped byte in one of the last entries makes open reject', async () => {
    await seed(50);
    await flipByte(dir, entryKey(48), 30, 0x80);
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/log entry 48/);
  });

  test('full verification on open finds damage anywhere in the log', async () => {
    await seed(50);
    await flipByte(dir, entryKey(2), 5);
    await expect(RocksLogStorage.open(dir, { verifyOnOpen: 10 }).then((s) => s.close())).resolves.toBeUndefined();
    const err = await expectRaftError(RocksLogStorage.open(dir, { verifyOnOpen: Infinity }), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/log entry 2/);
  });

  test('an entry stored under the wrong index is refused', async () => {
    await seed(20);
    await withRawDb(dir, async (db) => {
      const value = await db.get(entryKey(3));
      await db.batch([{ type: 'put', key: entryKey(4), value }], { sync: true });
    });
    const storage = await RocksLogStorage.open(dir, { verifyOnOpen: 1 });
    const err = await expectRaftError(storage.entries(1, 10), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/log entry 4 holds the entry of index 3/);
    await storage.close();
  });

  test('a missing entry in the middle of the log is reported as a hole', async () => {
    await seed(20);
    await withRawDb(dir, (db) => db.batch([{ type: 'del', key: entryKey(6) }], { sync: true }));
    const storage = await RocksLogStorage.open(dir, { verifyOnOpen: 5 });
    const err = await expectRaftError(storage.entries(1, 21), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/log entry 6 is missing/);
    await storage.close();
    await expectRaftError(RocksLogStorage.open(dir, { verifyOnOpen: Infinity }), ErrorCode.StorageCorrupt);
  });

  test('a missing first entry makes open reject', async () => {
    await seed(20);
    await withRawDb(dir, (db) => db.batch([{ type: 'del', key: entryKey(1) }], { sync: true }));
    const err = await expectRaftError(RocksLogStorage.open(dir, { verifyOnOpen: 1 }), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/log entry 1 is missing/);
  });

  test('a damaged hard state makes open reject', async () => {
    await seed(5);
    await flipByte(dir, hardStateKey, 10);
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/hard state failed its checksum/);
  });

  test('a commit index beyond the last entry (lost entries) makes open reject', async () => {
    await seed(20);
    await withRawDb(dir, (db) =>
      db.batch([15, 16, 17, 18, 19, 20].map((i) => ({ type: 'del' as const, key: entryKey(i) })), { sync: true }),
    );
    // The durable watermark sees the shorter log; without it (a database from before the
    // watermark) the commit check below is what remains.
    await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageLost);
    await rm(join(dir, WATERMARK_FILE));
    const storage = await RocksLogStorage.open(dir);
    await storage.save({ hardState: { term: 1, vote: null, commit: 14 } });
    await storage.close();
    await withRawDb(dir, (db) => db.batch([{ type: 'del', key: entryKey(14) }], { sync: true }));
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/commit index 14 is beyond the last entry 13/);
  });

  test('a damaged snapshot pointer or log start makes open reject (damaged snapshot files: snapshotFiles.test.ts)', async () => {
    const storage = await RocksLogStorage.open(dir);
    await storage.save({ entries: makeEntries(1, 12, 2) });
    await storage.installSnapshot(makeSnapshot(9, 2));
    await storage.close();
    await flipByte(dir, logStartKey, 6);
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/the log start failed its checksum/);
    await flipByte(dir, logStartKey, 6);
    await flipByte(dir, snapshotPointerKey, -3);
    expect((await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt)).message).toMatch(/snapshot pointer failed its checksum/);
  });

  test('after a corruption error the storage still refuses to return the damaged entry', async () => {
    await seed(30);
    await flipByte(dir, entryKey(3), 21);
    const storage = await RocksLogStorage.open(dir, { verifyOnOpen: 5 });
    for (let attempt = 0; attempt < 3; attempt++) {
      await expectRaftError(storage.entries(3, 4), ErrorCode.StorageCorrupt);
    }
    await storage.close();
  });
});

describe('format version', () => {
  test('a database from a newer format version is refused with RAFT_STORAGE_VERSION', async () => {
    await seed(3);
    await withRawDb(dir, (db) => db.batch([{ type: 'put', key: versionKey, value: encodeVersion(FORMAT_VERSION + 1) }], { sync: true }));
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageVersion);
    expect(err.message).toMatch(new RegExp(`format version ${FORMAT_VERSION + 1}.*reads only up to version ${FORMAT_VERSION}`));
    expect(err.fatal).toBe(true);
    // The refused database was closed again, so it can be opened (and repaired) by others.
    await withRawDb(dir, async () => undefined);
  });

  test('a database holding data but no version key is refused as corrupt', async () => {
    await seed(3);
    await withRawDb(dir, (db) => db.batch([{ type: 'del', key: versionKey }], { sync: true }));
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/no format version key/);
  });

  test('a new database gets the current format version', async () => {
    await (await RocksLogStorage.open(dir)).close();
    const stored = await withRawDb(dir, (db) => db.get(versionKey));
    expect(stored.readUInt32BE(0)).toBe(FORMAT_VERSION);
  });
});
