import { ErrorCode, RaftError } from '@raftkit/core';

export function invalid(message: string): RaftError {
  return new RaftError(ErrorCode.InvalidArgument, message);
}

export function corrupt(message: string): RaftError {
  return new RaftError(ErrorCode.StorageCorrupt, `rocksdb log storage is corrupt: ${message}`);
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

/** A RaftError passes through unchanged; anything else from the database is a storage failure. */
export function asRaftError(error: unknown, doing: string): RaftError {
  return error instanceof RaftError ? error : failed(`failed while ${doing}`, error);
}
