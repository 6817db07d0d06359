import { ErrorCode, RaftError, isRaftError } from '@raftkit/core';

export function invalid(message: string): RaftError {
  return new RaftError(ErrorCode.InvalidArgument, message);
}

export function corrupt(message: string): RaftError {
  return new RaftError(ErrorCode.StorageCorrupt, `rocksdb log storage is corrupt: ${message}`);
}

/** What an operator does with a member whose storage cannot be trusted. */
export const REJOIN_ADVICE =
  'This member cannot be trusted to hold what it acknowledged: keep it stopped, wipe its data directory, ' +
  'and start it again, empty, only after the cluster has a new leader (the current leader remembers what ' +
  'this member acknowledged and would stop it with RAFT_STORAGE_LOST); do it while the other members are ' +
  'healthy. Once the cluster has membership changes: remove the member and add it back instead';

/** A WAL file failed verification before RocksDB could replay (and silently drop) part of it. */
export function walDamaged(path: string, offset: number, reason: string): RaftError {
  return new RaftError(
    ErrorCode.StorageCorrupt,
    `rocksdb log storage is corrupt: the write-ahead log ${path} is damaged at byte ${offset} (${reason}); ` +
      `opening it would silently drop every entry after that point. ${REJOIN_ADVICE}`,
  );
}

/** The database holds less than this node is known to have made durable. */
export function storageLost(location: string, what: string): RaftError {
  return new RaftError(
    ErrorCode.StorageLost,
    `rocksdb log storage at ${location} lost data it had made durable: ${what}. Its write-ahead log ` +
      `was damaged, truncated or deleted (or the directory was restored from an older copy). ${REJOIN_ADVICE}`,
  );
}

export function failed(message: string, cause?: unknown): RaftError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new RaftError(ErrorCode.StorageFailed, `rocksdb log storage ${message}${detail}`, { cause });
}

export function compacted(index: number, firstIndex: number): RaftError {
  return new RaftError(ErrorCode.Compacted, `index ${index} is compacted; the log starts at ${firstIndex}`);
}

export function unavailable(index: number, lastIndex: number): RaftError {
  return new RaftError(ErrorCode.Unavailable, `index ${index} is past the last index ${lastIndex}`);
}

/**
 * A RaftError passes through unchanged; RocksDB reporting corruption (a damaged SST block: its
 * message names the file) is RAFT_STORAGE_CORRUPT; anything else is a storage failure.
 */
export function asRaftError(error: unknown, doing: string): RaftError {
  if (isRaftError(error)) return error;
  if ((error as { code?: unknown } | null)?.code === 'LEVEL_CORRUPTION' && error instanceof Error) {
    return new RaftError(ErrorCode.StorageCorrupt, `rocksdb log storage is corrupt (while ${doing}): ${error.message.trim()}. ${REJOIN_ADVICE}`, { cause: error });
  }
  return failed(`failed while ${doing}`, error);
}
