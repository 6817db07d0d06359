// Reads and verifies what a database holds when it is opened.
import { ErrorCode, RaftError, emptyHardState } from '@raftkit/core';
import type { RocksLevel } from '@nxtedition/rocksdb';
import {
  FORMAT_VERSION,
  decodeHardState,
  decodeLogStart,
  decodePointer,
  decodeVersion,
  encodeVersion,
  entryKey,
  entryKeysEnd,
  indexOfKey,
  versionKey,
} from './codec.js';
import { corrupt } from './errors.js';
import { migrate } from './migrate.js';
import type { LogView } from './plan.js';
import { collectEntries, entryIterator, readMetadata } from './reader.js';
import type { TailTerms } from './tailTerms.js';
import { writeBatch } from './writeBatch.js';

const VERIFY_CHUNK = 4096;

/**
 * Checks the format version (initialising an empty database), decodes and verifies the hard
 * state and snapshot metadata, finds the log bounds and verifies the checksums of the last
 * `verifyCount` entries, recording their terms in `tail`.
 */
export async function recover(db: RocksLevel, location: string, verifyCount: number, tail: TailTerms): Promise<LogView> {
  let stored = await readMetadata(db);
  if (stored.version === undefined) await initialise(db);
  else {
    const version = decodeVersion(stored.version);
    checkVersion(version, db.location);
    if (version < FORMAT_VERSION) {
      await migrate(db, location, stored);
      stored = await readMetadata(db);
    }
  }
  const hardState = stored.hardState ? decodeHardState(stored.hardState) : emptyHardState;
  const pointer = stored.pointer ? decodePointer(stored.pointer) : null;
  const start = stored.logStart ? decodeLogStart(stored.logStart) : { index: 0, term: 0 };
  if (start.index > 0 && !pointer) throw corrupt(`the log starts after ${start.index}, but there is no snapshot`);
  if (pointer && pointer.meta.index < start.index) {
    throw corrupt(`the log starts after ${start.index}, above the snapshot at ${pointer.meta.index}`);
  }
  const firstIndex = start.index + 1;
  // Entries below the log start are hidden by it; a range delete may not have been durable.
  if (start.index > 0) await db.clear({ gte: entryKey(0), lt: entryKey(firstIndex) });
  const lastIndex = await lastEntryIndex(db, firstIndex);
  const view: LogView = { hardState, snapshot: pointer?.meta ?? null, pointer, firstIndex, startTerm: start.term, lastIndex };
  if (hardState.commit > lastIndex) {
    throw corrupt(`the hard state's commit index ${hardState.commit} is beyond the last entry ${lastIndex}`);
  }
  if (pointer && pointer.meta.index > lastIndex) {
    throw corrupt(`the log ends at ${lastIndex}, below the snapshot at ${pointer.meta.index}`);
  }
  tail.reset(firstIndex);
  if (lastIndex < firstIndex) return view;
  await checkFirstEntry(db, firstIndex);
  const from = Math.max(firstIndex, lastIndex - Math.min(verifyCount, lastIndex) + 1);
  for (let lo = from; lo <= lastIndex; lo += VERIFY_CHUNK) {
    const hi = Math.min(lo + VERIFY_CHUNK, lastIndex + 1);
    const entries = await collectEntries(entryIterator(db, lo, hi), lo, hi);
    tail.append(lo, entries.map((e) => e.term));
  }
  return view;
}

function checkVersion(version: number, location: string): void {
  if (version > FORMAT_VERSION) {
    throw new RaftError(
      ErrorCode.StorageVersion,
      `rocksdb log storage at ${location} has format version ${version}, but this version of ` +
        `@raftkit/log-rocksdb reads only up to version ${FORMAT_VERSION}; upgrade the package to open it`,
    );
  }
  if (version < 1) throw corrupt(`the format version is ${version}`);
}

async function initialise(db: RocksLevel): Promise<void> {
  const it = db.iterator({ limit: 1 });
  const rows = await it.nextv(1).finally(() => it.close());
  if (rows.length > 0) throw corrupt('the database holds data but no format version key');
  await writeBatch(db, [{ type: 'put', key: versionKey, value: encodeVersion(FORMAT_VERSION) }], true);
}

async function lastEntryIndex(db: RocksLevel, firstIndex: number): Promise<number> {
  const it = db.iterator({ gte: entryKey(firstIndex), lt: entryKeysEnd, reverse: true, limit: 1, values: false });
  const rows = await it.nextv(1).finally(() => it.close());
  return rows.length > 0 ? indexOfKey(rows[0][0]) : firstIndex - 1;
}

async function checkFirstEntry(db: RocksLevel, firstIndex: number): Promise<void> {
  const it = db.iterator({ gte: entryKey(firstIndex), lt: entryKeysEnd, limit: 1, values: false });
  const rows = await it.nextv(1).finally(() => it.close());
  const held = rows.length > 0 ? indexOfKey(rows[0][0]) : null;
  if (held !== firstIndex) throw corrupt(`log entry ${firstIndex} is missing (the log should start there)`);
}
