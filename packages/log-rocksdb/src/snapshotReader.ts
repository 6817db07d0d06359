// Reads the installed snapshot's file, verifying the CRC-32C of every block it returns. It
// holds the file open, so a newer install unlinking the file does not disturb it (POSIX keeps
// an unlinked file's data while a descriptor is open).
import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, RaftError, SNAPSHOT_CHUNK_BYTES, checkSnapshotRead, streamByReads, type SnapshotMeta, type SnapshotReader, type SnapshotStream } from '@raftkit/core';
import type { SnapshotPointer } from './codec.js';
import { crc32c } from './crc32c.js';
import { asRaftError, corrupt, failed, invalid } from './errors.js';
import { BLOCK_BYTES, FOOTER_BYTES, blockCount, checkTrailer, decodeFooter } from './snapshotFiles.js';



export class FileSnapshotReader implements SnapshotReader {
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly checksum: string;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    pointer: SnapshotPointer,
    private readonly crcs: Buffer,
    private readonly what: string,
  ) {
    this.meta = pointer.meta;
    this.size = pointer.size;
    this.checksum = pointer.checksum;
  }

  /** Opens the file `path` the pointer names and checks its trailer against the pointer. */
  static async open(path: string, pointer: SnapshotPointer): Promise<FileSnapshotReader> {
    const what = `snapshot file ${path} (index ${pointer.meta.index})`;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw corrupt(`the installed ${what} is missing`);
      throw failed(`could not open ${what}`, error);
    }
    try {
      const tableBytes = blockCount(pointer.size) * 4;
      const { size: fileSize } = await fh.stat();
      if (fileSize !== pointer.size + tableBytes + FOOTER_BYTES) {
        throw corrupt(`${what} holds ${fileSize} bytes, expected ${pointer.size + tableBytes + FOOTER_BYTES}`);
      }
      const trailer = Buffer.alloc(tableBytes + FOOTER_BYTES);
      await readFully(fh, trailer, pointer.size);
      checkTrailer(trailer, what);
      const footer = decodeFooter(trailer.subarray(tableBytes), what);
      if (footer.size !== pointer.size || footer.checksum !== pointer.checksum) {
        throw corrupt(`${what} is not the snapshot its pointer names (size or SHA-256 differ)`);
      }
      return new FileSnapshotReader(fh, pointer, trailer.subarray(0, tableBytes), what);
    } catch (error) {
      await fh.close().catch(() => undefined);
      throw asRaftError(error, `opening ${what}`);
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkSnapshotRead(offset, length);
    if (this.closed) throw invalid('snapshot reader is closed');
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((end - 1) / BLOCK_BYTES);
    const lo = first * BLOCK_BYTES;
    const hi = Math.min(this.size, (last + 1) * BLOCK_BYTES);
    const buf = Buffer.allocUnsafe(hi - lo);
    try {
      await readFully(this.fh, buf, lo);
    } catch (error) {
      throw asRaftError(error, `reading ${this.what}`);
    }
    for (let b = first; b <= last; b++) {
      const block = buf.subarray((b - first) * BLOCK_BYTES, Math.min(buf.length, (b - first + 1) * BLOCK_BYTES));
      if (crc32c(block) !== this.crcs.readUInt32BE(b * 4)) throw corrupt(`${this.what} failed the checksum of block ${b} (bytes ${b * BLOCK_BYTES}..)`);
    }
    return buf.subarray(offset - lo, end - lo);
  }

  stream(offset = 0, chunkBytes = SNAPSHOT_CHUNK_BYTES): SnapshotStream {
    return streamByReads((at, length) => this.read(at, length), this.size, offset, chunkBytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let at = 0; at < buf.length; ) {
    const { bytesRead } = await fh.read(buf, at, buf.length - at, position + at);
    if (bytesRead === 0) throw new RaftError(ErrorCode.StorageCorrupt, `rocksdb log storage is corrupt: a snapshot file ends early, at byte ${position + at}`);
    at += bytesRead;
  }
}
