// The snapshots of a MemoryLogStore: finished and partial ones being written, and the installed
// one. Bytes are held as the chunks they were written in; a reader keeps its chunks alive, so
// it survives a newer snapshot replacing the one it reads.
import { createHash, type Hash } from 'node:crypto';
import {
  ErrorCode,
  RaftError,
  SNAPSHOT_CHUNK_BYTES,
  checkSnapshotExpectation,
  checkSnapshotRead,
  streamByReads,
  type SnapshotExpectation,
  type SnapshotInfo,
  type SnapshotMeta,
  type SnapshotReader,
  type SnapshotStream,
  type SnapshotWriter,
} from '@raftkit/core';

const invalid = (message: string): RaftError => new RaftError(ErrorCode.InvalidArgument, message);

/** One snapshot's bytes, written in order. Invariant: size = sum of chunk lengths. */
export interface SnapshotFile {
  readonly meta: SnapshotMeta;
  /** What a received snapshot must turn out to be; null for a local one. */
  readonly expected: SnapshotExpectation | null;
  readonly chunks: Uint8Array[];
  size: number;
  readonly hash: Hash;
  /** Set once finished (and checked against `expected`). */
  info: SnapshotInfo | null;
}

/** The installed snapshot: its identity and its bytes. */
export interface InstalledSnapshot {
  readonly info: SnapshotInfo;
  readonly chunks: readonly Uint8Array[];
}

export function sameExpectation(file: SnapshotFile, meta: SnapshotMeta, expected: SnapshotExpectation): boolean {
  const e = file.expected;
  return (
    e !== null && file.meta.index === meta.index && file.meta.term === meta.term && e.size === expected.size && e.checksum === expected.checksum
  );
}

export const checkExpectation = checkSnapshotExpectation;

export function newFile(meta: SnapshotMeta, expected: SnapshotExpectation | null): SnapshotFile {
  return { meta, expected: expected && { size: expected.size, checksum: expected.checksum }, chunks: [], size: 0, hash: createHash('sha256'), info: null };
}

/** What a writer needs from its store: a liveness check and a way to drop its file. */
export interface WriterHost {
  live(): void;
  has(file: SnapshotFile): boolean;
  discard(file: SnapshotFile): void;
}

export class MemorySnapshotWriter implements SnapshotWriter {
  private busy = false;
  constructor(
    private readonly host: WriterHost,
    private readonly file: SnapshotFile,
  ) {}

  get meta(): SnapshotMeta {
    return this.file.meta;
  }

  get written(): number {
    return this.file.size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.host.live();
    if (!(chunk instanceof Uint8Array)) throw invalid('a snapshot chunk must be a Uint8Array');
    const file = this.usable();
    if (file.info) throw invalid(`snapshot ${file.meta.index} is already finished`);
    const limit = file.expected?.size;
    if (limit !== undefined && file.size + chunk.length > limit) {
      throw invalid(`writing ${chunk.length} bytes at ${file.size} would pass the expected size ${limit}`);
    }
    if (this.busy) throw invalid('snapshot writes must not overlap');
    this.busy = true;
    try {
      const copy = new Uint8Array(chunk);
      file.chunks.push(copy);
      file.size += copy.length;
      file.hash.update(copy);
    } finally {
      this.busy = false;
    }
  }

  async finish(): Promise<SnapshotInfo> {
    this.host.live();
    const file = this.usable();
    if (file.info) return file.info;
    const checksum = file.hash.copy().digest('hex');
    const e = file.expected;
    if (e && (e.size !== file.size || e.checksum !== checksum)) {
      this.host.discard(file);
      throw new RaftError(
        ErrorCode.SnapshotCorrupt,
        `received snapshot ${file.meta.index} has ${file.size} bytes with SHA-256 ${checksum}, expected ${e.size} bytes with ${e.checksum}; discarded`,
      );
    }
    file.info = Object.freeze({ meta: file.meta, size: file.size, checksum });
    return file.info;
  }

  async abort(): Promise<void> {
    this.host.live();
    if (this.host.has(this.file)) this.host.discard(this.file);
  }

  private usable(): SnapshotFile {
    if (!this.host.has(this.file)) throw invalid(`snapshot writer for ${this.file.meta.index} was aborted, discarded or installed`);
    return this.file;
  }
}

/** Bytes [offset, offset + length) of `chunks` (fewer at the end), copied into one buffer. */
function slice(chunks: readonly Uint8Array[], size: number, offset: number, length: number): Uint8Array {
  const end = Math.min(size, offset + length);
  const out = new Uint8Array(Math.max(0, end - offset));
  let at = 0;
  for (const c of chunks) {
    const lo = Math.max(offset, at);
    const hi = Math.min(end, at + c.length);
    if (lo < hi) out.set(c.subarray(lo - at, hi - at), lo - offset);
    at += c.length;
    if (at >= end) break;
  }
  return out;
}


export class MemorySnapshotReader implements SnapshotReader {
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly checksum: string;
  private closed = false;

  constructor(private readonly installed: InstalledSnapshot) {
    ({ meta: this.meta, size: this.size, checksum: this.checksum } = installed.info);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkSnapshotRead(offset, length);
    if (this.closed) throw invalid('snapshot reader is closed');
    return slice(this.installed.chunks, this.size, offset, length);
  }

  stream(offset = 0, chunkBytes = SNAPSHOT_CHUNK_BYTES): SnapshotStream {
    return streamByReads((at, length) => this.read(at, length), this.size, offset, chunkBytes);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
