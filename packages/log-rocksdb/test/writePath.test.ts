import { ErrorCode, type LogStorage } from '@raftkit/core';
import { expectEntries, expectRaftError, makeEntries, makeSnapshot } from '@raftkit/log-storage-suite';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { entryKey, entryKeysEnd } from '../src/codec.js';
import { RocksLogStorage, type SyncedWriteTiming } from '../src/index.js';
import { withRawDb } from './rawDb.js';
import { makeTempDir, removeDir } from './tempDir.js';

let dir: string;
let storage: RocksLogStorage | null = null;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await storage?.close();
  storage = null;
  await removeDir(dir);
});

async function open(options = {}): Promise<RocksLogStorage> {
  storage = await RocksLogStorage.open(dir, options);
  return storage;
}

describe('unsynced commit-index updates (sync: false)', () => {
  test('a commit-only hard state save skips the fsync but is kept, and a save with entries is always synced', async () => {
    let s = await open();
    await s.save({ entries: makeEntries(1, 3), hardState: { term: 1, vote: 'a', commit: 0 } });
    const before = s.stats().syncedBatches;
    await s.save({ hardState: { term: 1, vote: 'a', commit: 3 }, sync: false });
    expect(s.stats().syncedBatches).toBe(before);
    await s.save({ entries: makeEntries(4, 1), sync: false });
    expect(s.stats().syncedBatches).toBe(before + 1);
    await s.close();
    s = await open();
    expect((await s.state()).hardState).toEqual({ term: 1, vote: 'a', commit: 3 });
    expect((await s.state()).lastIndex).toBe(4);
  });
});

describe('group commit', () => {
  test('each awaited save is one synced batch, counted before the save resolves', async () => {
    const s = await open();
    const before = s.stats().syncedBatches;
    for (let i = 1; i <= 20; i++) {
      await s.save({ entries: makeEntries(i, 1) });
      expect(s.stats().syncedBatches).toBe(before + i);
    }
  });

  test('saves issued together share one synced batch', async () => {
    const s = await open();
    const before = s.stats();
    await Promise.all(Array.from({ length: 200 }, (_, k) => s.save({ entries: makeEntries(k + 1, 1) })));
    const after = s.stats();
    expect(after.syncedBatches - before.syncedBatches).toBe(1);
    expect(after.saves - before.saves).toBe(200);
    expect(after.entries - before.entries).toBe(200);
    expectEntries(await s.entries(1, 201), makeEntries(1, 200));
  });

  test('saves issued while a batch is being written join the next batch, in order', async () => {
    const s = await open();
    const before = s.stats().syncedBatches;
    const first = Array.from({ length: 10 }, (_, k) => s.save({ entries: makeEntries(k + 1, 1) }));
    const second: Promise<void>[] = [];
    void first[0].then(() => {
      for (let k = 10; k < 20; k++) second.push(s.save({ entries: makeEntries(k + 1, 1) }));
    });
    await Promise.all(first);
    await Promise.all(second);
    expect(second).toHaveLength(10);
    expect(s.stats().syncedBatches - before).toBe(2);
    expectEntries(await s.entries(1, 21), makeEntries(1, 20));
  });

  test('maxBatchBytes bounds how many saves share a batch', async () => {
    const s = await open({ maxBatchBytes: 1000 });
    const before = s.stats().syncedBatches;
    // Each save encodes to 121 bytes (100-byte payload + 21-byte header): 8 per batch.
    await Promise.all(Array.from({ length: 80 }, (_, k) => s.save({ entries: makeEntries(k + 1, 1, 1, 100) })));
    expect(s.stats().syncedBatches - before).toBe(10);
  });
});

describe('write timing (onSyncedWrite, stats)', () => {
  test('each synced batch is reported once, split into the worker\'s write and the hand-off, and the totals add up', async () => {
    const seen: SyncedWriteTiming[] = [];
    const s = await open({ onSyncedWrite: (t: SyncedWriteTiming) => seen.push(t) });
    const before = s.stats();
    await s.save({ entries: makeEntries(1, 3), hardState: { term: 1, vote: 'a', commit: 0 } });
    await s.save({ hardState: { term: 1, vote: 'a', commit: 3 }, sync: false }); // not synced: not reported
    await Promise.all([s.save({ entries: makeEntries(4, 1) }), s.save({ entries: makeEntries(5, 1) })]); // one batch
    const after = s.stats();
    expect(seen).toHaveLength(after.syncedBatches - before.syncedBatches);
    expect(seen).toHaveLength(2);
    for (const t of seen) {
      expect(t.writeMs).toBeGreaterThan(0); // an fsync takes time on any disk
      expect(t.handOffMs).toBeGreaterThanOrEqual(0);
    }
    const sum = (k: 'writeMs' | 'handOffMs') => seen.reduce((a, t) => a + t[k], 0);
    expect(after.syncedWriteMs - before.syncedWriteMs).toBeCloseTo(sum('writeMs'), 6);
    expect(after.handOffMs - before.handOffMs).toBeCloseTo(sum('handOffMs'), 6);
  });

  test('an observer that throws loses nothing: the save resolves and the storage goes on', async () => {
    let calls = 0;
    let s = await open({ onSyncedWrite: () => { calls++; throw new Error('observer bug'); } });
    await s.save({ entries: makeEntries(1, 2), hardState: { term: 1, vote: 'a', commit: 1 } });
    await s.save({ entries: makeEntries(3, 1) });
    expect(calls).toBe(2);
    await s.close();
    s = await open();
    expectEntries(await s.entries(1, 4), makeEntries(1, 3));
  });
});

describe('lifecycle', () => {
  test('a directory already open elsewhere is refused with RAFT_STORAGE_FAILED', async () => {
    await open();
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageFailed);
    expect(err.message).toMatch(/is locked by another process/);
  });

  test('invalid options are refused with RAFT_INVALID_CONFIG before anything is opened', async () => {
    for (const options of [{ maxBatchBytes: -1 }, { verifyOnOpen: Number.NaN }, { termCacheSize: '9' }, { onSyncedWrite: 5 }, { watermarkSyncMs: -1 }]) {
      await expectRaftError(RocksLogStorage.open(dir, options as object), ErrorCode.InvalidConfig);
    }
  });

  test('state() hands out frozen objects, so a caller cannot alter what the storage holds', async () => {
    const s = await open();
    await s.save({ hardState: { term: 2, vote: 'v', commit: 0 } });
    await s.installSnapshot(makeSnapshot(3, 1, ['a']));
    const state = await s.state();
    expect(Object.isFrozen(state.hardState)).toBe(true);
    expect(Object.isFrozen(state.snapshot)).toBe(true);
    expect(Object.isFrozen(state.snapshot!.voters)).toBe(true);
  });

  test('calls after close reject with RAFT_STORAGE_FAILED; close is idempotent', async () => {
    const s = await open();
    await s.close();
    await s.close();
    await expectRaftError(s.save({ entries: makeEntries(1, 1) }), ErrorCode.StorageFailed);
    await expectRaftError(s.entries(1, 1), ErrorCode.StorageFailed);
    storage = null;
  });

  test('entries covered by a snapshot are removed from disk, also when left over from a crash', async () => {
    const s = await open();
    await s.save({ entries: makeEntries(1, 20) });
    await s.installSnapshot(makeSnapshot(12, 1));
    await s.close();
    storage = null;
    const keysHeld = () =>
      withRawDb(dir, async (db) => {
        const it = db.iterator({ gte: entryKey(0), lt: entryKeysEnd, values: false });
        const rows = await it.nextv(1000);
        await it.close();
        return rows.length;
      });
    expect(await keysHeld()).toBe(8);
    // Simulate a crash between the snapshot batch and the range delete.
    await withRawDb(dir, (db) => db.batch([{ type: 'put', key: entryKey(5), value: Buffer.from('stale') }], { sync: true }));
    const reopened = await open();
    expect((await reopened.state()).firstIndex).toBe(13);
    await reopened.close();
    storage = null;
    expect(await keysHeld()).toBe(8);
  });
});

describe('reads during writes', () => {
  test('readers racing truncating writers see a consistent log, never a false corruption', async () => {
    const s: LogStorage = await open({ termCacheSize: 0 });
    await s.save({ entries: makeEntries(1, 50, 1) });
    const failures: unknown[] = [];
    let writing = true;
    const reader = (async () => {
      while (writing) {
        const { firstIndex, lastIndex } = await s.state();
        await s.entries(firstIndex, lastIndex + 1).then(
          (entries) => {
            for (let k = 1; k < entries.length; k++) if (entries[k].term < entries[k - 1].term) failures.push('order');
          },
          (error: { code?: string }) => {
            if (error.code !== ErrorCode.Unavailable) failures.push(error);
          },
        );
      }
    })();
    for (let round = 2; round < 80; round++) {
      // Alternately shrink and grow the log by truncating from a point near its end.
      const from = 30 + (round % 7);
      await s.save({ entries: makeEntries(from, round % 2 === 0 ? 5 : 25, round) });
    }
    writing = false;
    await reader;
    expect(failures).toEqual([]);
  });

  test('a read issued as one save resolves, while the next batch is already written, sees no half-applied state', async () => {
    // One save per batch: the next batch is written right after the previous one resolves,
    // before the readers woken by that resolution run.
    const s = await open({ maxBatchBytes: 1, termCacheSize: 0 });
    await s.save({ entries: makeEntries(1, 40, 1) });
    const outcomes: string[] = [];
    for (let round = 2; round < 30; round++) {
      const grow = s.save({ entries: makeEntries(30, 11, round) }); // log ends at 40
      const shrink = s.save({ entries: makeEntries(31, 2, round) }); // log ends at 32
      await grow.then(() =>
        s.entries(1, 41).then(
          () => outcomes.push('read'),
          (error: { code?: string }) => outcomes.push(error.code ?? String(error)),
        ),
      );
      await shrink;
    }
    expect(outcomes).toHaveLength(28);
    expect(outcomes.filter((o) => o !== 'read' && o !== ErrorCode.Unavailable)).toEqual([]);
  });
});
