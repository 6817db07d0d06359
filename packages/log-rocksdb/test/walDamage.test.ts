// Damage to the newest write-ahead log must stop the open with a coded error, never yield a
// silently shorter log; a torn final write from a crash (never acknowledged) must open fine.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ErrorCode, type RaftError } from '@raftkit/core';
import { expectEntries, expectRaftError, makeEntries } from '@raftkit/log-storage-suite';
import { RocksLevel } from '@nxtedition/rocksdb';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { encodeEntry, encodeHardState, entryKey, hardStateKey } from '../src/codec.js';
import { RocksLogStorage } from '../src/index.js';
import { readMark } from '../src/watermark.js';
import { payloadFor, termFor } from './fixtures/payload.mjs';
import { makeTempDir, removeDir } from './tempDir.js';
import { deleteWal, flipWalByte, newestWal, truncateWal, walRecords, walSize, type WalRecord } from './walFile.js';

const LAST = 200; // entries written: 1..100 in a first session, 101..200 in a second
let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('raftkit-wal-');
});
afterEach(() => removeDir(dir));

async function writeSession(first: number, last: number): Promise<void> {
  const storage = await RocksLogStorage.open(dir);
  for (let i = first; i <= last; i += 5) {
    await storage.save({ entries: makeEntries(i, 5, 1, 64), hardState: { term: 1, vote: 'a', commit: i + 4 } });
  }
  await storage.close();
}

/** Two sessions, so the newest WAL holds the second one and older entries sit in an SST. */
async function seed(): Promise<{ wal: string; records: WalRecord[] }> {
  await writeSession(1, 100);
  await writeSession(101, LAST);
  const wal = await newestWal(dir);
  const records = await walRecords(wal);
  expect(records.length).toBeGreaterThanOrEqual(20); // one record per synced save
  return { wal, records };
}

/** Opening must fail with `code`, and again on a second try (a failed open must not "repair" the loss). */
async function expectRefused(code: ErrorCode): Promise<RaftError> {
  const err = await expectRaftError(RocksLogStorage.open(dir), code);
  expect(err.fatal).toBe(true);
  expect(err.message).toMatch(/wipe its data directory/);
  await expectRaftError(RocksLogStorage.open(dir), code);
  return err;
}

async function expectLost(): Promise<void> {
  const err = await expectRefused(ErrorCode.StorageLost);
  expect(err.message).toMatch(new RegExp(`the last log index reached ${LAST}, found \\d+`));
}

async function expectCorruptWal(wal: string): Promise<void> {
  const err = await expectRefused(ErrorCode.StorageCorrupt);
  expect(err.message).toContain(wal);
  expect(err.message).toMatch(/failed its checksum|runs past its block/);
}

describe('damage to the newest WAL after a clean close', () => {
  test('a flipped byte in the middle of the WAL: RAFT_STORAGE_CORRUPT naming the file', async () => {
    const { wal, records } = await seed();
    const mid = records[Math.floor(records.length / 2)];
    await flipWalByte(wal, mid.start + 7 + Math.floor((mid.end - mid.start - 7) / 2));
    await expectCorruptWal(wal);
  });

  test('a flipped length byte in a record header in the middle: RAFT_STORAGE_CORRUPT', async () => {
    const { wal, records } = await seed();
    await flipWalByte(wal, records[Math.floor(records.length / 2)].start + 4, 0x01);
    await expectCorruptWal(wal);
  });

  test('a record header zeroed in the middle (looks like preallocated space): RAFT_STORAGE_CORRUPT', async () => {
    const { wal, records } = await seed();
    const buf = await readFile(wal);
    buf.fill(0, records[Math.floor(records.length / 2)].start, records[Math.floor(records.length / 2)].start + 7);
    await writeFile(wal, buf);
    const err = await expectRefused(ErrorCode.StorageCorrupt);
    expect(err.message).toContain(wal);
  });

  test('a flipped byte in the tail record: RAFT_STORAGE_CORRUPT', async () => {
    const { wal, records } = await seed();
    await flipWalByte(wal, records[records.length - 1].end - 2);
    await expectCorruptWal(wal);
  });

  test.each([
    ['half the file', (size: number) => Math.floor(size / 2)],
    ['one byte short', (size: number) => size - 1],
    ['inside the first record', () => 11],
  ])('truncation at an arbitrary offset (%s): RAFT_STORAGE_LOST', async (_name, at) => {
    const { wal } = await seed();
    await truncateWal(wal, at(await walSize(wal)));
    await expectLost();
  });

  test('truncation inside the last record header: RAFT_STORAGE_LOST', async () => {
    const { wal, records } = await seed();
    await truncateWal(wal, records[records.length - 1].start + 3);
    await expectLost();
  });

  test.each([
    ['the last record', (r: WalRecord[]) => r[r.length - 1].start],
    ['a record in the middle', (r: WalRecord[]) => r[Math.floor(r.length / 2)].start],
  ])('truncation at a record boundary (%s), invisible to RocksDB: RAFT_STORAGE_LOST', async (_name, at) => {
    const { wal, records } = await seed();
    await truncateWal(wal, at(records));
    await expectLost();
  });

  test('deletion of the newest WAL: RAFT_STORAGE_LOST', async () => {
    const { wal } = await seed();
    await deleteWal(wal);
    await expectLost();
  });

  test('undamaged, the same log opens with every entry (the checks are not false alarms)', async () => {
    await seed();
    const storage = await RocksLogStorage.open(dir, { verifyOnOpen: Infinity });
    expect((await storage.state()).lastIndex).toBe(LAST);
    expectEntries(await storage.entries(1, LAST + 1), makeEntries(1, LAST, 1, 64));
    await storage.close();
  });
});

describe('a torn final write from a crash', () => {
  test('an unacknowledged last record cut short opens fine, with every acknowledged entry', async () => {
    await writeSession(1, 100);
    // The write in progress at the crash: durable in the WAL but never acknowledged, so the
    // watermark does not cover it. Written behind RocksLogStorage's back to model exactly that.
    const raw = new RocksLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    const pending = makeEntries(101, 5, 1, 64);
    await raw.batch(
      [
        ...pending.map((e) => ({ type: 'put' as const, key: entryKey(e.index), value: encodeEntry(e) })),
        { type: 'put', key: hardStateKey, value: encodeHardState({ term: 1, vote: 'a', commit: 105 }) },
      ],
      { sync: true },
    );
    await raw.close();
    const wal = await newestWal(dir);
    const records = await walRecords(wal);
    const last = records[records.length - 1];
    await truncateWal(wal, last.start + Math.floor((last.end - last.start) / 2)); // the torn write

    const storage = await RocksLogStorage.open(dir, { verifyOnOpen: Infinity });
    const state = await storage.state();
    expect(state.lastIndex).toBe(100);
    expect(state.hardState.commit).toBe(100);
    expectEntries(await storage.entries(1, 101), makeEntries(1, 100, 1, 64));
    await storage.close();
  });
});

describe('damage after the writing process was killed (SIGKILL, no clean close)', () => {
  const child = fileURLToPath(new URL('./fixtures/walWriter.mjs', import.meta.url));
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

  /**
   * Runs the child until it has acknowledged every entry up to `last`, then SIGKILLs it. With
   * `watermarkMs` undefined the child uses the default watermark interval and is killed only
   * once its watermark file records `last` (polled, bounded by the watchdog); with 0 (the
   * default here) its watermark follows every synced batch.
   */
  function writeAndKill(first: number, last: number, watermarkMs: number | undefined = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      const env = { ...process.env };
      if (watermarkMs === undefined) delete env.RAFTKIT_WATERMARK_MS;
      else env.RAFTKIT_WATERMARK_MS = String(watermarkMs);
      const proc = spawn(process.execPath, [child, dir, String(first), String(last)], { stdio: ['ignore', 'pipe', 'pipe'], env });
      const killOnceMarked = async (): Promise<void> => {
        while (watermarkMs === undefined && ((await readMark(dir))?.mark.lastIndex ?? 0) < last) await new Promise((r) => setImmediate(r));
        proc.kill('SIGKILL');
      };
      let out = '';
      let err = '';
      const watchdog = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes(`acked ${last}\n`)) void killOnceMarked();
      });
      proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      proc.on('error', reject);
      proc.on('exit', (_code, signal) => {
        clearTimeout(watchdog);
        if (signal === 'SIGKILL' && out.includes(`acked ${last}`)) resolve();
        else reject(new Error(`child did not acknowledge ${last}: ${out} ${err}`));
      });
    });
  }

  async function seedKilled(): Promise<string> {
    if (!existsSync(dist)) throw new Error('this test runs the built package: run `pnpm build` first');
    await writeAndKill(1, 100);
    await writeAndKill(101, LAST);
    return newestWal(dir);
  }

  test('truncated to half after a kill: RAFT_STORAGE_LOST', async () => {
    const wal = await seedKilled();
    await truncateWal(wal, Math.floor((await walSize(wal)) / 2));
    // With watermarkIntervalMs 0 the watermark lags the last acknowledgement by one write, not by half the log.
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageLost);
    expect(err.message).toMatch(/the last log index reached \d+, found \d+/);
  });

  test('with the default watermark interval: truncated to half after a kill once the watermark caught up: RAFT_STORAGE_LOST', async () => {
    await writeAndKill(1, 100, undefined);
    await writeAndKill(101, LAST, undefined);
    const wal = await newestWal(dir);
    await truncateWal(wal, Math.floor((await walSize(wal)) / 2));
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageLost);
    expect(err.message).toMatch(/the last log index reached \d+, found \d+/);
  });

  test('deleted after a kill: RAFT_STORAGE_LOST', async () => {
    const wal = await seedKilled();
    await deleteWal(wal);
    await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageLost);
  });

  test('a flipped byte in the middle after a kill: RAFT_STORAGE_CORRUPT', async () => {
    const wal = await seedKilled();
    const records = await walRecords(wal);
    const mid = records[Math.floor(records.length / 2)];
    await flipWalByte(wal, mid.start + 9);
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
    expect(err.message).toContain(wal);
  });

  test('undamaged after a kill: opens with every acknowledged entry', async () => {
    await seedKilled();
    const storage = await RocksLogStorage.open(dir, { verifyOnOpen: Infinity });
    const entries = await storage.entries(1, LAST + 1);
    entries.forEach((e) => {
      if (e.term !== termFor(e.index) || !Buffer.from(e.data).equals(payloadFor(e.index))) expect.fail(`entry ${e.index} is wrong`);
    });
    await storage.close();
  });
});
