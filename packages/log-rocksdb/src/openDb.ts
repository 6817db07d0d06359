// Opens the RocksDB database, after checking what RocksDB itself would get wrong, and turns
// RocksDB's open errors into coded errors that say what is damaged.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RocksLevel } from '@nxtedition/rocksdb';
import { ErrorCode, RaftError } from '@raftkit/core';
import { REJOIN_ADVICE, failed } from './errors.js';
import { lockHolder } from './lockHolder.js';
import { scanWals } from './walScan.js';

/**
 * Opens (creating if missing) the database in `location`. Every WAL is verified first
 * (walScan.ts). Rejects with RAFT_STORAGE_CORRUPT for a damaged WAL, MANIFEST, SST or a
 * missing CURRENT, and RAFT_STORAGE_FAILED otherwise (a directory open in another process says so).
 */
export async function openDb(location: string): Promise<RocksLevel> {
  const exists = await checkFiles(location);
  if (exists) await scanWals(location);
  const db = new RocksLevel(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  try {
    await db.open({ createIfMissing: !exists });
  } catch (error) {
    throw openError(location, error, await lockHolderIfLocked(location, error));
  }
  return db;
}

/** Whether `location` holds a database; throws if it holds one without its CURRENT file. */
async function checkFiles(location: string): Promise<boolean> {
  const names = await readdir(location).catch(() => [] as string[]);
  if (names.includes('CURRENT')) return true;
  // Without CURRENT, RocksDB would create a new, empty database over the old files (or refuse
  // with a message about the wal_dir), losing the log either way.
  if (names.some((n) => /^(MANIFEST-\d+|\d+\.(log|sst))$/.test(n))) {
    throw new RaftError(
      ErrorCode.StorageCorrupt,
      `rocksdb log storage is corrupt: ${join(location, 'CURRENT')} is missing, but the directory holds ` +
        `RocksDB files (${names.filter((n) => /MANIFEST|\.log$|\.sst$/.test(n)).join(', ')}). ${REJOIN_ADVICE}`,
    );
  }
  return false;
}

/**
 * abstract-level wraps every open failure as "Database is not open" (LEVEL_DATABASE_NOT_OPEN);
 * RocksDB's own status, which names the damaged file, is in the cause chain.
 */
export function openError(location: string, error: unknown, holder: number | null = null): RaftError {
  const rocks = innermost(error);
  const message = rocks instanceof Error ? rocks.message : String(rocks);
  const code = (rocks as { code?: unknown } | null)?.code;
  if (code === 'LEVEL_LOCKED') return lockedError(location, error, holder);
  if (code === 'LEVEL_CORRUPTION' || /^Corruption:/.test(message)) {
    return new RaftError(
      ErrorCode.StorageCorrupt,
      `rocksdb log storage is corrupt: RocksDB could not open ${location}: ${message.trim().replace(/\.+$/, '')}. ${REJOIN_ADVICE}`,
      { cause: error },
    );
  }
  return failed(`could not open ${location}`, rocks instanceof Error ? rocks : error);
}

function innermost(error: unknown): unknown {
  let at = error;
  for (let depth = 0; depth < 8 && at instanceof Error && at.cause !== undefined; depth++) at = at.cause;
  return at;
}

/** Another process (or another open in this one) holds RocksDB's LOCK file: say so, not "not open". */
function lockedError(location: string, error: unknown, holder: number | null): RaftError {
  const who = holder === null ? '' : holder === process.pid ? ` (pid ${holder}: this process opened it twice)` : ` (pid ${holder})`;
  return new RaftError(
    ErrorCode.StorageFailed,
    `rocksdb log storage: data directory ${location} is locked by another process${who}: it is open ` +
      'elsewhere, for example by another server started with the same data directory. Stop that ' +
      'process, or give this one a data directory of its own',
    { cause: error },
  );
}

async function lockHolderIfLocked(location: string, error: unknown): Promise<number | null> {
  const code = (innermost(error) as { code?: unknown } | null)?.code;
  return code === 'LEVEL_LOCKED' ? lockHolder(location) : null;
}
