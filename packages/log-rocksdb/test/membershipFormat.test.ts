// Issue 10: the snapshot metadata stores the membership (format 2) and reads metadata written by
// format 1 unchanged, as a meta without membership. Issue 12: format 3 (snapshot files) migrates
// such a database on open.
import { type ConfState, ErrorCode, type SnapshotMeta } from '@raftkit/core';
import { expectRaftError } from '@raftkit/log-storage-suite';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RocksLogStorage } from '../src/index.js';
import { FORMAT_VERSION, decodeSnapshotMeta, encodeSnapshotMeta, encodeVersion, snapshotDataKey, snapshotMetaKey, versionKey } from '../src/codec.js';
import { crc32c } from '../src/crc32c.js';
import { SNAPSHOT_DIR } from '../src/snapshotFiles.js';
import { withRawDb } from './rawDb.js';
import { makeTempDir, removeDir } from './tempDir.js';

/**
 * encodeSnapshotMeta({ index: 42, term: 7, voters: ['a', 'n-äöü'] }, 'xyz') as written by format 1
 * (the codec before membership existed, run once to produce these bytes).
 */
const FORMAT_1_META = Buffer.from('49c4e195000000000000002a0000000000000007000000000000000325236885000000020000000161000000086e2dc3a4c3b6c3bc', 'hex');
const FORMAT_1_DATA = Buffer.from('xyz');

const joint: ConfState = {
  config: { voters: ['a', 'b', 'd'], votersOutgoing: ['a', 'b', 'c'], learners: ['l1', '10'], learnersNext: ['c'], autoLeave: true },
  addresses: { a: 'http://10.0.0.1:7001', d: 'https://d.example/raft', l1: 'http://[::1]:7009', '10': 'http://x' },
};
const metaWith = (index: number, membership: ConfState): SnapshotMeta => ({ index, term: 3, voters: ['a', 'b', 'c', 'd'], membership });

/** Re-seals a metadata value after a test changed it, so only the change is judged. */
function reseal(value: Buffer): Buffer {
  value.writeUInt32BE(crc32c(value.subarray(4)), 0);
  return value;
}

describe('snapshot metadata encoding', () => {
  test('metadata written by format 1 decodes unchanged, to a meta without membership', () => {
    const { meta, dataLength, dataCrc } = decodeSnapshotMeta(FORMAT_1_META);
    expect(meta).toEqual({ index: 42, term: 7, voters: ['a', 'n-äöü'] });
    expect(Object.hasOwn(meta, 'membership')).toBe(false);
    expect([dataLength, dataCrc]).toEqual([3, crc32c(FORMAT_1_DATA)]);
    // And a meta without membership is still written exactly as format 1 wrote it.
    expect(encodeSnapshotMeta(meta, FORMAT_1_DATA).equals(FORMAT_1_META)).toBe(true);
  });

  test('a joint membership with learners and addresses round-trips exactly, frozen', () => {
    const { meta } = decodeSnapshotMeta(encodeSnapshotMeta(metaWith(9, joint), FORMAT_1_DATA));
    expect(meta).toEqual(metaWith(9, joint));
    expect(Object.isFrozen(meta.membership)).toBe(true);
    expect(Object.isFrozen(meta.membership!.config.learners)).toBe(true);
    expect(Object.isFrozen(meta.membership!.addresses)).toBe(true);
  });

  test('a damaged membership is RAFT_STORAGE_CORRUPT naming it, even under a valid checksum', () => {
    const value = encodeSnapshotMeta(metaWith(9, joint), FORMAT_1_DATA);
    const at = value.indexOf('"voters"');
    const broken = reseal(Buffer.from(value));
    broken.write('"vitals"', at);
    const err = expectCorrupt(() => decodeSnapshotMeta(reseal(broken)));
    expect(err.message).toMatch(/snapshot metadata holds a membership that cannot be decoded \(.*config\.voters is not a list/);
    const cut = reseal(Buffer.from(value.subarray(0, value.length - 1)));
    expect(expectCorrupt(() => decodeSnapshotMeta(cut)).message).toMatch(/truncated membership or trailing bytes/);
  });
});

function expectCorrupt(fn: () => unknown): Error & { code: string } {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).toBe(ErrorCode.StorageCorrupt);
    return err as Error & { code: string };
  }
  throw new Error('expected RAFT_STORAGE_CORRUPT, nothing was thrown');
}

describe('a database written by format 1', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
    // A format-1 database holding a format-1 snapshot.
    await (await RocksLogStorage.open(dir)).close();
    await withRawDb(dir, (db) =>
      db.batch(
        [
          { type: 'put', key: versionKey, value: encodeVersion(1) },
          { type: 'put', key: snapshotMetaKey, value: FORMAT_1_META },
          { type: 'put', key: snapshotDataKey, value: FORMAT_1_DATA },
        ],
        { sync: true },
      ),
    );
  });
  afterEach(() => removeDir(dir));

  const storedVersion = (): Promise<number> => withRawDb(dir, async (db) => (await db.get(versionKey)).readUInt32BE(0));

  test('opens and reads its snapshot unchanged: migrated on open to format 3 (a snapshot file, the old keys gone)', async () => {
    await (await RocksLogStorage.open(dir)).close();
    expect(await storedVersion()).toBe(3);
    expect(FORMAT_VERSION).toBe(3);
    const missing = async (key: Buffer): Promise<string | undefined> =>
      withRawDb(dir, (db) => db.get(key).then(() => 'present', (e: { code?: string }) => e.code));
    expect([await missing(snapshotMetaKey), await missing(snapshotDataKey)]).toEqual(['LEVEL_NOT_FOUND', 'LEVEL_NOT_FOUND']);
    const files = await readdir(join(dir, SNAPSHOT_DIR));
    expect(files).toHaveLength(1);
    let storage = await RocksLogStorage.open(dir);
    expect((await storage.state()).snapshot).toEqual({ index: 42, term: 7, voters: ['a', 'n-äöü'] });
    expect(await storage.state()).toMatchObject({ firstIndex: 43, lastIndex: 42 });
    expect(await storage.term(42)).toBe(7);
    const reader = (await storage.openSnapshot())!;
    expect(Object.hasOwn(reader.meta, 'membership')).toBe(false);
    expect(Buffer.from(await reader.read(0, 100)).equals(FORMAT_1_DATA)).toBe(true);
    expect(reader.checksum).toBe(createHash('sha256').update(FORMAT_1_DATA).digest('hex'));
    await reader.close();
    await storage.installSnapshot({ meta: metaWith(50, joint), data: FORMAT_1_DATA });
    await storage.close();

    storage = await RocksLogStorage.open(dir);
    expect((await storage.state()).snapshot).toEqual(metaWith(50, joint));
    expect((await storage.snapshot())!.meta).toEqual(metaWith(50, joint));
    // The migrated file was replaced, and deleted with it.
    expect(await readdir(join(dir, SNAPSHOT_DIR))).toHaveLength(1);
    expect(await readdir(join(dir, SNAPSHOT_DIR))).not.toEqual(files);
    await storage.close();
  });

  test('a database whose snapshot value is damaged is refused on open, and stays unmigrated', async () => {
    const damaged = Buffer.from(FORMAT_1_DATA);
    damaged[0] ^= 1;
    await withRawDb(dir, (db) => db.batch([{ type: 'put', key: snapshotDataKey, value: damaged }], { sync: true }));
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
    expect(err.message).toMatch(/snapshot data \(index 42\) failed its checksum/);
    expect(await storedVersion()).toBe(1);
  });

  test('an invalid membership is refused at installSnapshot with RAFT_INVALID_ARGUMENT, and nothing is stored', async () => {
    const storage = await RocksLogStorage.open(dir);
    const bad = { ...joint, config: { ...joint.config, learners: ['a'] } };
    await expectRaftError(storage.installSnapshot({ meta: metaWith(50, bad), data: FORMAT_1_DATA }), ErrorCode.InvalidArgument);
    await expectRaftError(storage.createSnapshot(metaWith(50, bad)), ErrorCode.InvalidArgument);
    expect((await storage.state()).snapshot!.index).toBe(42);
    await storage.close();
  });
});
