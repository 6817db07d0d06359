import type { Entry } from '@raftkit/core';
import type { RocksIterator, RocksLevel } from '@nxtedition/rocksdb';
import {
  decodeEntry,
  entryKey,
  hardStateKey,
  indexOfKey,
  logStartKey,
  snapshotDataKey,
  snapshotMetaKey,
  snapshotPointerKey,
  versionKey,
} from './codec.js';
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

/** The metadata values (undefined where missing). */
export interface StoredMetadata {
  readonly version?: Buffer;
  readonly hardState?: Buffer;
  /** Formats 1-2: the snapshot, as one value (migrated on open). */
  readonly legacyMeta?: Buffer;
  readonly legacyData?: Buffer;
  readonly pointer?: Buffer;
  readonly logStart?: Buffer;
}

/**
 * The raw format version, hard state, snapshot and log start values, from one consistent view. Not `db.getMany`: in @nxtedition/rocksdb 12.2.12 a read error there
 * (a damaged SST block) is thrown as an uncaught exception and the promise never settles;
 * iterators reject properly.
 */
export async function readMetadata(db: RocksLevel): Promise<StoredMetadata> {
  const keys = { version: versionKey, hardState: hardStateKey, legacyMeta: snapshotMetaKey, legacyData: snapshotDataKey, pointer: snapshotPointerKey, logStart: logStartKey };
  const it = db.iterator({ gte: versionKey, lte: logStartKey });
  try {
    const rows = await it.nextv(Object.keys(keys).length);
    const out: Record<string, Buffer | undefined> = {};
    for (const [name, k] of Object.entries(keys)) out[name] = rows.find(([key]) => key.equals(k))?.[1];
    return out;
  } catch (error) {
    throw asRaftError(error, 'reading the hard state');
  } finally {
    await it.close().catch(() => undefined);
  }
}
