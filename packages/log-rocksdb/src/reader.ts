import type { Entry } from '@raftkit/core';
import type { RocksIterator, RocksLevel } from '@nxtedition/rocksdb';
import {
  checkSnapshotData,
  decodeEntry,
  decodeSnapshotMeta,
  entryKey,
  hardStateKey,
  indexOfKey,
  snapshotDataKey,
  snapshotMetaKey,
  versionKey,
} from './codec.js';
import type { Snapshot } from '@raftkit/core';
import { asRaftError, corrupt } from './errors.js';

const ROWS_PER_READ = 1024;
const BYTES_PER_READ = 16 * 1024 * 1024;

/**
 * Opens an iterator over entries [lo, hi). It is created synchronously and sees the database
 * as of this call, so callers check their bounds in the same synchronous step.
 */
export function entryIterator(db: RocksLevel, lo: number, hi: number): RocksIterator {
  return db.iterator({ gte: entryKey(lo), lt: entryKey(hi), highWaterMarkBytes: BYTES_PER_READ });
}

/**
 * Reads every entry of [lo, hi) from `it`, verifying each checksum. A missing index or a bad
 * checksum rejects with RAFT_STORAGE_CORRUPT naming the index; never returns wrong bytes.
 */
export async function collectEntries(it: RocksIterator, lo: number, hi: number): Promise<Entry[]> {
  const out: Entry[] = [];
  try {
    while (out.length < hi - lo) {
      const rows = await it.nextv(Math.min(ROWS_PER_READ, hi - lo - out.length));
      if (rows.length === 0) break;
      for (const [key, value] of rows) {
        const expected = lo + out.length;
        const index = indexOfKey(key);
        if (index !== expected) throw corrupt(`log entry ${expected} is missing (the next entry held is ${index})`);
        out.push(decodeEntry(value, expected));
      }
    }
    if (out.length < hi - lo) throw corrupt(`log entry ${lo + out.length} is missing`);
    return out;
  } catch (error) {
    throw asRaftError(error, `reading entries ${lo}..${hi - 1}`);
  } finally {
    await it.close().catch(() => undefined);
  }
}

/**
 * The raw format version, hard state and snapshot metadata values (undefined where missing),
 * from one consistent view. Not `db.getMany`: in @nxtedition/rocksdb 12.2.12 a read error there
 * (a damaged SST block) is thrown as an uncaught exception and the promise never settles;
 * iterators reject properly.
 */
export async function readMetadata(db: RocksLevel): Promise<Array<Buffer | undefined>> {
  const keys = [versionKey, hardStateKey, snapshotMetaKey];
  const it = db.iterator({ gte: versionKey, lte: snapshotMetaKey });
  try {
    const rows = await it.nextv(keys.length);
    return keys.map((k) => rows.find(([key]) => key.equals(k))?.[1]);
  } catch (error) {
    throw asRaftError(error, 'reading the hard state');
  } finally {
    await it.close().catch(() => undefined);
  }
}

/** Reads the snapshot metadata and data from one consistent view and verifies both. */
export async function readSnapshot(db: RocksLevel): Promise<Snapshot | null> {
  const it = db.iterator({ gte: snapshotMetaKey, lte: snapshotDataKey });
  try {
    const rows = await it.nextv(2);
    const meta = rows.find(([key]) => key.equals(snapshotMetaKey))?.[1];
    const data = rows.find(([key]) => key.equals(snapshotDataKey))?.[1];
    if (!meta) return null;
    const stored = decodeSnapshotMeta(meta);
    if (!data) throw corrupt(`the snapshot data (index ${stored.meta.index}) is missing`);
    checkSnapshotData(data, stored);
    return { meta: stored.meta, data };
  } catch (error) {
    throw asRaftError(error, 'reading the snapshot');
  } finally {
    await it.close().catch(() => undefined);
  }
}
