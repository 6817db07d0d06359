// Writes one snapshot file: each chunk is written with fs.promises (the libuv pool); a
// received snapshot's chunk is fdatasync'd before write() resolves (a local one only at
// finish()); the SHA-256 and the per-block CRC-32Cs are computed as
// the bytes go by. A received snapshot resumes from its `.part` file after a restart by
// re-reading (and re-hashing) the durable prefix, 1 MiB at a time.
import { createHash, type Hash } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { ErrorCode, RaftError, type SnapshotExpectation, type SnapshotInfo, type SnapshotMeta, type SnapshotWriter } from '@raftkit/core';
import { crc32c } from './crc32c.js';
import { failed, invalid } from './errors.js';
import { BLOCK_BYTES, encodeTrailer, fileName, finishedName, newNonce, type SnapshotDir } from './snapshotFiles.js';

const REHASH_BYTES = 1024 * 1024;

/** A finished snapshot file, ready to install. */
export interface FinishedSnapshot {
  readonly file: string;
  readonly info: SnapshotInfo;
}

export class FileSnapshotWriter implements SnapshotWriter {
  private readonly hash: Hash = createHash('sha256');
  private readonly blockCrcs: number[] = [];
  private blockCrc = 0;
  private size = 0;
  private busy = false;
  private state: 'open' | 'finished' | 'gone' = 'open';
  private done: FinishedSnapshot | null = null;

  private constructor(
    private readonly dir: SnapshotDir,
    readonly meta: SnapshotMeta,
    private readonly expected: SnapshotExpectation | null,
    private name: string,
    private fh: FileHandle | null,
    /** Called with each finished snapshot, so installSnapshot can find it. */
    private readonly onFinished: (done: FinishedSnapshot) => void,
  ) {}

  /** A new, empty snapshot file. */
  static async create(dir: SnapshotDir, meta: SnapshotMeta, expected: SnapshotExpectation | null, onFinished: (done: FinishedSnapshot) => void): Promise<FileSnapshotWriter> {
    const name = fileName(expected ? 'recv' : 'local', meta.index, meta.term, expected, false, newNonce());
    const fh = await open(dir.file(name), 'wx').catch((e) => Promise.reject(failed(`could not create snapshot file ${name}`, e)));
    await dir.sync();
    return new FileSnapshotWriter(dir, meta, expected, name, fh, onFinished);
  }

  /** Resumes the received `.part` file `name`, re-hashing what it holds. */
  static async resume(dir: SnapshotDir, meta: SnapshotMeta, expected: SnapshotExpectation, name: string, onFinished: (done: FinishedSnapshot) => void): Promise<FileSnapshotWriter> {
    const fh = await open(dir.file(name), 'r+');
    const writer = new FileSnapshotWriter(dir, meta, expected, name, fh, onFinished);
    try {
      const { size } = await fh.stat();
      const buf = Buffer.allocUnsafe(Math.min(REHASH_BYTES, Math.max(size, 1)));
      while (writer.size < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - writer.size), writer.size);
        if (bytesRead === 0) break;
        writer.account(buf.subarray(0, bytesRead));
      }
      return writer;
    } catch (error) {
      await fh.close().catch(() => undefined);
      throw failed(`could not resume snapshot file ${name}`, error);
    }
  }

  /** A received snapshot already finished (before a restart, or by an earlier writer). */
  static finished(dir: SnapshotDir, done: FinishedSnapshot, onFinished: (done: FinishedSnapshot) => void): FileSnapshotWriter {
    const writer = new FileSnapshotWriter(dir, done.info.meta, { size: done.info.size, checksum: done.info.checksum }, done.file, null, onFinished);
    writer.size = done.info.size;
    writer.state = 'finished';
    writer.done = done;
    return writer;
  }

  /** The finished file, once finish() resolved. */
  get result(): FinishedSnapshot | null {
    return this.done;
  }

  get written(): number {
    return this.size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw invalid('a snapshot chunk must be a Uint8Array');
    this.checkOpen();
    if (this.busy) throw invalid('snapshot writes must not overlap');
    const limit = this.expected?.size;
    if (limit !== undefined && this.size + chunk.length > limit) {
      throw invalid(`writing ${chunk.length} bytes at ${this.size} would pass the expected size ${limit} of snapshot ${this.meta.index}`);
    }
    this.busy = true;
    try {
      const copy = Buffer.from(chunk); // the caller may reuse its buffer once we return
      for (let at = 0; at < copy.length; ) {
        const { bytesWritten } = await this.fh!.write(copy, at, copy.length - at, this.size + at);
        at += bytesWritten;
      }
      // A received snapshot's chunk is acknowledged once this resolves, and a restart resumes
      // after it: it must be on disk. A local one is made durable once, by finish().
      if (this.expected) await this.fh!.datasync();
      this.account(copy);
    } catch (error) {
      await this.close();
      this.state = 'gone';
      throw failed(`could not write snapshot file ${this.name}`, error);
    } finally {
      this.busy = false;
    }
  }

  async finish(): Promise<SnapshotInfo> {
    if (this.done) return this.done.info;
    this.checkOpen();
    if (this.busy) throw invalid('finish() while a write is in flight');
    const checksum = this.hash.digest('hex');
    const e = this.expected;
    if (e && (e.size !== this.size || e.checksum !== checksum)) {
      await this.abort();
      throw new RaftError(
        ErrorCode.SnapshotCorrupt,
        `received snapshot ${this.meta.index} has ${this.size} bytes with SHA-256 ${checksum}, expected ${e.size} bytes with ${e.checksum}; discarded`,
      );
    }
    const crcs = this.size % BLOCK_BYTES === 0 ? this.blockCrcs : [...this.blockCrcs, this.blockCrc];
    try {
      const trailer = encodeTrailer(this.size, crcs, checksum);
      await this.fh!.write(trailer, 0, trailer.length, this.size);
      await this.fh!.datasync();
      await this.close();
      const done = finishedName(this.name);
      await rename(this.dir.file(this.name), this.dir.file(done));
      await this.dir.sync();
      this.name = done;
    } catch (error) {
      await this.abort();
      throw failed(`could not finish snapshot file ${this.name}`, error);
    }
    this.state = 'finished';
    this.done = { file: this.name, info: Object.freeze({ meta: this.meta, size: this.size, checksum }) };
    this.onFinished(this.done);
    return this.done.info;
  }

  async abort(): Promise<void> {
    if (this.state === 'gone') return;
    if (this.state === 'finished') return; // a finished file belongs to the storage now
    this.state = 'gone';
    await this.close();
    await unlink(this.dir.file(this.name)).catch(() => undefined);
    await this.dir.sync().catch(() => undefined);
  }

  private checkOpen(): void {
    if (this.state === 'finished') throw invalid(`snapshot ${this.meta.index} is already finished`);
    if (this.state === 'gone') throw invalid(`snapshot writer for ${this.meta.index} was aborted or failed`);
  }

  private async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
  }

  /** Adds durable bytes to the SHA-256 and the block CRCs. */
  private account(bytes: Uint8Array): void {
    this.hash.update(bytes);
    let at = 0;
    while (at < bytes.length) {
      const fill = this.size % BLOCK_BYTES;
      const n = Math.min(BLOCK_BYTES - fill, bytes.length - at);
      this.blockCrc = crc32c(bytes.subarray(at, at + n), this.blockCrc);
      this.size += n;
      at += n;
      if (this.size % BLOCK_BYTES === 0) {
        this.blockCrcs.push(this.blockCrc);
        this.blockCrc = 0;
      }
    }
  }
}
