// The durable watermark: legitimate shrinking of the log keeps it consistent; a log, term or
// vote behind it refuses to open; damage to the file itself is handled.
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { RocksBatchOp } from '@nxtedition/rocksdb';
import { join } from 'node:path';
import { ErrorCode } from '@raftkit/core';
import { expectRaftError, makeEntries, makeSnapshot } from '@raftkit/log-storage-suite';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { encodeHardState, hardStateKey } from '../src/codec.js';
import { RocksLogStorage } from '../src/index.js';
import { WATERMARK_FILE, parseMarkFile, readMark } from '../src/watermark.js';
import { WriteThread } from '../src/writeThread.js';
import { withRawDb } from './rawDb.js';
import { makeTempDir, removeDir } from './tempDir.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('raftkit-mark-');
});
afterEach(() => removeDir(dir));

async function seed(): Promise<void> {
  const storage = await RocksLogStorage.open(dir);
  await storage.save({ entries: makeEntries(1, 20), hardState: { term: 5, vote: 'b', commit: 5 } });
  await storage.close();
}

describe('legitimate shrinking of the log', () => {
  /**
   * What the watermark file says at the instant each batch deleting entries is handed to the
   * write worker, which is before the worker writes it (writeThread.ts `write`).
   */
  function watchTruncatingBatches(): { marks: number[]; restore(): void } {
    const marks: number[] = [];
    const record = (): number => marks.push(parseMarkFile(readFileSync(join(dir, WATERMARK_FILE)))!.mark.lastIndex);
    const isEntry = (key: Buffer): boolean => key[0] === 0x01;
    const proto = WriteThread.prototype;
    const original = proto.write;
    proto.write = function (this: WriteThread, ops: readonly RocksBatchOp[], sync: boolean) {
      if (ops.some((op) => op.type === 'del' && isEntry(op.key))) record();
      return Reflect.apply(original, this, [ops, sync]) as ReturnType<WriteThread['write']>;
    };
    return { marks, restore: () => (proto.write = original) };
  }

  test('the file is lowered before a truncation or a disagreeing snapshot, so a crash then cannot leave it ahead', async () => {
    await seed();
    const storage = await RocksLogStorage.open(dir);
    const watch = watchTruncatingBatches();
    try {
      // Conflict truncation of an uncommitted suffix (Raft §5.3): 20 entries become 9.
      await storage.save({ entries: makeEntries(8, 2, 6), hardState: { term: 6, vote: null, commit: 5 } });
      // A snapshot that disagrees with the log replaces it: the log ends at the snapshot.
      await storage.installSnapshot(makeSnapshot(7, 7));
    } finally {
      watch.restore();
    }
    // Had the process died right after either batch, the file would have been within the log.
    expect(watch.marks).toEqual([9, 7]);
    await storage.close();
    const reopened = await RocksLogStorage.open(dir);
    expect((await reopened.state()).lastIndex).toBe(7);
    expect((await readMark(dir))!.mark.lastIndex).toBe(7);
    await reopened.close();
  });

  test('a database without the file (written before it existed) opens and gets one', async () => {
    await seed();
    await rm(join(dir, WATERMARK_FILE));
    const storage = await RocksLogStorage.open(dir);
    expect((await readMark(dir))!.mark).toMatchObject({ lastIndex: 20, term: 5, commit: 5, snapshotIndex: 0 });
    await storage.close();
  });
});

describe('state behind the watermark', () => {
  test('a hard state older than the watermark (lost term): RAFT_STORAGE_LOST', async () => {
    await seed();
    await withRawDb(dir, (db) =>
      db.batch([{ type: 'put', key: hardStateKey, value: encodeHardState({ term: 3, vote: 'b', commit: 5 }) }], { sync: true }),
    );
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageLost);
    expect(err.message).toMatch(/the term reached 5, found 3/);
  });

  test('a lost vote in the same term (could vote twice): RAFT_STORAGE_LOST', async () => {
    await seed();
    await withRawDb(dir, (db) =>
      db.batch([{ type: 'put', key: hardStateKey, value: encodeHardState({ term: 5, vote: null, commit: 5 }) }], { sync: true }),
    );
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageLost);
    expect(err.message).toMatch(/vote cast in term 5/);
  });
});

describe('damage to the watermark file itself', () => {
  test('garbage in both slots: RAFT_STORAGE_CORRUPT naming the file', async () => {
    await seed();
    await writeFile(join(dir, WATERMARK_FILE), Buffer.alloc(1024, 0x5a));
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageCorrupt);
    expect(err.message).toContain(WATERMARK_FILE);
  });

  test('a torn write of the newest slot falls back to the previous record', async () => {
    await seed();
    const path = join(dir, WATERMARK_FILE);
    const file = await readFile(path);
    const slots = [file.subarray(0, 512), file.subarray(512)];
    const newest = slots[0].readUInt32BE(12) > slots[1].readUInt32BE(12) ? 0 : 1;
    slots[newest].fill(0x11, 20, 40);
    await writeFile(path, file);
    const storage = await RocksLogStorage.open(dir);
    expect((await storage.state()).lastIndex).toBe(20);
    await storage.close();
  });
});

describe('the write interval', () => {
  test('marks noted while a write is in flight wait out the interval: at most one fdatasync per interval', async () => {
    const { Watermark } = await import('../src/watermark.js');
    const { open } = await import('node:fs/promises');
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const original = proto.datasync;
    let syncs = 0;
    proto.datasync = function (this: unknown) {
      syncs++;
      return Reflect.apply(original, this, []) as Promise<void>;
    };
    try {
      const mark = (lastIndex: number) => ({ lastIndex, term: 1, vote: null, commit: 0, snapshotIndex: 0 });
      const w = await Watermark.create(dir, mark(0), 0, 100);
      syncs = 0;
      const started = performance.now();
      // A mark every event-loop turn for 350 ms: many land while a write is in flight.
      for (let i = 1; performance.now() - started < 350; i++) {
        w.note(mark(i));
        await new Promise((r) => setImmediate(r));
      }
      const elapsed = performance.now() - started;
      await w.close(mark(1_000_000));
      // One write per started 100 ms, plus the one at close.
      expect(syncs).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
      expect(syncs).toBeGreaterThanOrEqual(3);
      expect(parseMarkFile(readFileSync(join(dir, WATERMARK_FILE)))!.mark.lastIndex).toBe(1_000_000);
    } finally {
      proto.datasync = original;
    }
  });
});

describe('fdatasync of the watermark (syncMs)', () => {
  const mark = (lastIndex: number) => ({ lastIndex, term: 1, vote: null, commit: 0, snapshotIndex: 0 });
  const inFile = (): number => parseMarkFile(readFileSync(join(dir, WATERMARK_FILE)))!.mark.lastIndex;
  const turn = () => new Promise((r) => setImmediate(r));
  async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!ok()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  test('raising records are written at once but fdatasynced at most once per syncMs; each is in the file (a killed process keeps it)', async () => {
    const { Watermark } = await import('../src/watermark.js');
    const w = await Watermark.create(dir, mark(0), 0, 0, 200);
    const created = w.stats();
    expect(created).toEqual({ writes: 1, syncs: 1 }); // the record at open is durable
    const started = performance.now();
    let i = 0;
    while (performance.now() - started < 450) {
      w.note(mark(++i));
      await until(`mark ${i} is in the file`, () => inFile() === i);
    }
    const elapsed = performance.now() - started;
    const { writes, syncs } = w.stats();
    expect(writes - created.writes).toBe(i); // every raise written (interval 0)
    expect(i).toBeGreaterThan(10);
    // One fdatasync per started 200 ms at most (the first raise is due at once: none since open).
    expect(syncs - created.syncs).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 1);
    await w.close(mark(i));
    expect(w.stats().syncs).toBe(syncs + 1); // the record at close is durable
  });

  test('an unsynced record is fdatasynced once syncMs has passed, without a further note', async () => {
    const { Watermark } = await import('../src/watermark.js');
    const w = await Watermark.create(dir, mark(0), 0, 0, 500);
    // Two raises in a row: at most the first can be due for a sync (none in the last 500 ms).
    w.note(mark(1));
    await until('mark 1 is written', () => w.stats().writes === 2);
    w.note(mark(2));
    await until('mark 2 is written', () => w.stats().writes === 3);
    const written = w.stats();
    expect(written.syncs).toBeLessThan(written.writes); // mark 2 is not durable yet
    await until('the timer syncs it', () => w.stats().syncs === written.syncs + 1);
    expect(w.stats().writes).toBe(3); // a sync only, no new record
    await turn();
    expect(w.stats().syncs).toBe(written.syncs + 1); // and only one
    await w.close(mark(2));
  });

  test('lower() is durable before it resolves, whatever syncMs says', async () => {
    const { Watermark } = await import('../src/watermark.js');
    const w = await Watermark.create(dir, mark(0), 0, 0, 60_000);
    for (let i = 1; i <= 5; i++) {
      w.note(mark(10 * i));
      await until(`mark ${10 * i} is written`, () => inFile() === 10 * i);
    }
    const before = w.stats();
    expect(before.syncs).toBe(1); // only the record at open: raises are not synced for a minute
    expect(w.needsLowering(30)).toBe(true);
    await w.lower(mark(30));
    expect(w.stats()).toEqual({ writes: before.writes + 1, syncs: before.syncs + 1 });
    expect(inFile()).toBe(30);
    expect(w.needsLowering(30)).toBe(false); // lowered and durable
    await w.close(mark(30));
  });

  test('syncMs 0: every record is fdatasynced', async () => {
    const { Watermark } = await import('../src/watermark.js');
    const w = await Watermark.create(dir, mark(0), 0, 0, 0);
    for (let i = 1; i <= 5; i++) {
      w.note(mark(i));
      await until(`mark ${i} is written`, () => w.stats().writes === i + 1 && w.stats().syncs === i + 1);
    }
    await w.close(mark(5));
    expect(w.stats()).toEqual({ writes: 7, syncs: 7 });
  });

  test('a storage under steady saves: one watermark write per synced batch, far fewer fdatasyncs', async () => {
    const storage = await RocksLogStorage.open(dir, { watermarkIntervalMs: 0 });
    for (let i = 1; i <= 60; i++) await storage.save({ entries: makeEntries(i, 1), hardState: { term: 1, vote: 'a', commit: i - 1 } });
    await until('the last mark is written', () => inFile() === 60);
    const stats = storage.stats();
    expect(stats.watermarkWrites).toBeGreaterThanOrEqual(30); // interval 0: nearly every batch (coalesced while one is in flight)
    expect(stats.watermarkSyncs).toBeLessThan(stats.watermarkWrites / 4);
    await storage.close();
    const reopened = await RocksLogStorage.open(dir);
    expect((await reopened.state()).lastIndex).toBe(60);
    await reopened.close();
  });
});
