// Damage to RocksDB's own files (SST, MANIFEST, CURRENT) must give RAFT_STORAGE_CORRUPT naming
// the damaged file (RocksDB's own message), not abstract-level's "Database is not open".
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode } from '@raftkit/core';
import { expectRaftError, makeEntries } from '@raftkit/log-storage-suite';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RocksLogStorage } from '../src/index.js';
import { makeTempDir, removeDir } from './tempDir.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('raftkit-files-');
});
afterEach(() => removeDir(dir));

/** Writes a log, then reopens once, so RocksDB flushes the WAL into an SST. */
async function seed(): Promise<void> {
  let storage = await RocksLogStorage.open(dir);
  await storage.save({ entries: makeEntries(1, 100, 1, 64), hardState: { term: 1, vote: 'a', commit: 100 } });
  await storage.close();
  storage = await RocksLogStorage.open(dir);
  await storage.close();
}

async function fileNamed(pattern: RegExp): Promise<string> {
  const name = (await readdir(dir)).find((n) => pattern.test(n));
  if (!name) throw new Error(`no file matching ${pattern} in ${dir}`);
  return join(dir, name);
}

async function flip(path: string, fromEnd: number): Promise<void> {
  const buf = await readFile(path);
  buf[fromEnd < 0 ? buf.length + fromEnd : fromEnd] ^= 0x40;
  await writeFile(path, buf);
}

async function expectCorruptNaming(file: string): Promise<void> {
  const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
  expect(err.fatal).toBe(true);
  expect(err.message).toContain(file);
  expect(err.message).not.toMatch(/Database is not open/);
  expect(err.message).toMatch(/wipe its data directory/);
}

describe("damaged RocksDB files are named in a RAFT_STORAGE_CORRUPT error", () => {
  test('a missing SST file', async () => {
    await seed();
    const sst = await fileNamed(/^\d+\.sst$/);
    await unlink(sst);
    await expectCorruptNaming(sst);
  });

  test("a flipped byte in an SST file's footer", async () => {
    await seed();
    const sst = await fileNamed(/^\d+\.sst$/);
    await flip(sst, -20);
    await expectCorruptNaming(sst);
  });

  test('a flipped byte in an SST data block: a coded error, not an uncaught exception and a hung open', async () => {
    await seed();
    const sst = await fileNamed(/^\d+\.sst$/);
    await flip(sst, 100);
    await expectCorruptNaming(sst);
  });

  test('a damaged MANIFEST', async () => {
    await seed();
    const manifest = await fileNamed(/^MANIFEST-\d+$/);
    await flip(manifest, 20);
    await expectCorruptNaming(manifest);
  });

  test('a deleted CURRENT file: refused, and RocksDB is not let create a new database over the old files', async () => {
    await seed();
    await unlink(join(dir, 'CURRENT'));
    await expectCorruptNaming(join(dir, 'CURRENT'));
    expect(await readdir(dir)).not.toContain('CURRENT'); // nothing was created by the attempt
    await expectCorruptNaming(join(dir, 'CURRENT'));
  });

  test('a database held open elsewhere is a RAFT_STORAGE_FAILED naming the lock', async () => {
    const storage = await RocksLogStorage.open(dir);
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageFailed);
    expect(err.message).toMatch(/data directory .* is locked by another process/);
    await storage.close();
  });
});
