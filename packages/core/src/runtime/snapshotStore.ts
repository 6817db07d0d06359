import type { SnapshotMeta } from '../consensus/types.js';
import { ErrorCode, RaftError } from '../errors.js';
import { checkSnapshotRead } from './storageChecks.js';

/**
 * A snapshot's bytes as a stream of chunks, in order. Chunks may have any size; a consumer
 * must not assume the producer's chunk boundaries survive a copy or a transfer.
 */
export type SnapshotStream = AsyncIterable<Uint8Array>;

/** What identifies a snapshot's bytes: its log position, its length and their checksum. */
export interface SnapshotInfo {
  readonly meta: SnapshotMeta;
  /** Length in bytes. */
  readonly size: number;
  /** SHA-256 of the bytes, lowercase hex (64 characters). Every storage computes the same. */
  readonly checksum: string;
}

/**
 * Reads one durable snapshot. A reader keeps working after a newer snapshot replaced it
 * (a leader may be streaming an older snapshot to a follower when it takes a new one) until
 * `close()`.
 */
export interface SnapshotReader extends SnapshotInfo {
  /**
   * `length` bytes at `offset` (fewer only at the end; empty at or past `size`). Bytes that fail
   * the storage's own checks reject with RAFT_STORAGE_CORRUPT, never come back wrong.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The bytes from `offset` (default 0) to the end, in chunks of at most `chunkBytes` (default 1 MiB). */
  stream(offset?: number, chunkBytes?: number): SnapshotStream;
  /** Releases the reader (idempotent). */
  close(): Promise<void>;
}

/** What a snapshot being received must turn out to be; see `LogStorage.createSnapshot`. */
export interface SnapshotExpectation {
  readonly size: number;
  readonly checksum: string;
}

/**
 * Writes one snapshot, in order, resumably. Nothing it writes is visible to `openSnapshot()`
 * until `LogStorage.installSnapshot(meta)` makes it the node's snapshot.
 */
export interface SnapshotWriter {
  readonly meta: SnapshotMeta;
  /**
   * Bytes written and durable so far: 0 for a new snapshot; for one resumed after a lost
   * connection or a restart, where the transfer continues.
   */
  readonly written: number;
  /**
   * Appends `chunk` at `written`. For a writer created with an expectation (a snapshot being
   * received), the bytes are durable once it resolves: a crash keeps them, and a resumed writer
   * reports them in `written`. A local snapshot's bytes need only be durable at `finish()`
   * (a crash before it discards the whole snapshot anyway). Calls must not overlap.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Ends the snapshot durably and returns its size and checksum. A writer created with an
   * expectation that the bytes do not meet rejects with RAFT_SNAPSHOT_CORRUPT and discards
   * everything written (the next `createSnapshot` for it starts at 0).
   */
  finish(): Promise<SnapshotInfo>;
  /** Discards everything written (idempotent). */
  abort(): Promise<void>;
}

/** Whether `x` is a stream of chunks rather than one buffer. */
export function isSnapshotStream(x: unknown): x is SnapshotStream {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && typeof (x as SnapshotStream)[Symbol.asyncIterator] === 'function';
}

/**
 * All of a snapshot's bytes in one buffer: for a state machine small enough to hold its
 * snapshot in memory, whose `restore` reads it whole.
 */
export async function snapshotBytes(data: Uint8Array | SnapshotStream): Promise<Uint8Array> {
  if (!isSnapshotStream(data)) return data;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of data) {
    chunks.push(c);
    size += c.length;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The default chunk of `SnapshotReader.stream`: 1 MiB. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/**
 * `SnapshotReader.stream` built on its `read`: the bytes of a snapshot of `size` bytes from
 * `offset` on, `chunkBytes` at a time (checked: RAFT_INVALID_ARGUMENT).
 */
export function streamByReads(read: (offset: number, length: number) => Promise<Uint8Array>, size: number, offset = 0, chunkBytes = SNAPSHOT_CHUNK_BYTES): SnapshotStream {
  checkSnapshotRead(offset, chunkBytes);
  if (chunkBytes < 1) throw new RaftError(ErrorCode.InvalidArgument, 'chunkBytes must be at least 1');
  return {
    async *[Symbol.asyncIterator]() {
      for (let at = offset; at < size; at += chunkBytes) yield await read(at, chunkBytes);
    },
  };
}
