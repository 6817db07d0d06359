import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { crc32 as jsCrc32 } from '../codec/crc32.js';
import { KvError, KvErrorCode } from '../errors.js';

/** zlib's native CRC-32 (Node 20.15+), else the package's own: the same polynomial either way. */
const crc32: (b: Uint8Array) => number = typeof zlib.crc32 === 'function' ? (b) => zlib.crc32(b) : jsCrc32;

/** Each value on disk: CRC-32 of the bytes (u32 LE), length (u32 LE), then the bytes. */
export const RECORD_HEADER_BYTES = 8;

/**
 * Where one held value's bytes are. Mutable on purpose: compaction moves the bytes to a newer
 * segment and updates `segment` and `position`, so every holder of the value keeps reading it.
 */
export interface Location {
  segment: Segment;
  position: number;
  readonly size: number;
}

/**
 * One append-only file of values. Never fsync'd: what it holds is rebuilt from the snapshot
 * and the log when the process starts, so the store deletes every segment at open. `live`
 * holds the locations of values still reachable (the store drops them as the garbage
 * collector finalizes their holders), so a segment nobody needs can be deleted, and a sparse
 * one compacted.
 */
export class Segment {
  readonly live = new Set<Location>();
  liveBytes = 0;
  /** Bytes written, headers included; the next record's position. */
  written = 0;
  sealed = false;
  private fd: number;
  private closed = false;

  constructor(
    readonly id: number,
    readonly path: string,
  ) {
    this.fd = fs.openSync(path, 'wx+');
  }

  /** Appends `data`; returns its location (not yet live: see `adopt`). Throws the fs error. */
  append(data: Uint8Array): Location {
    const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
    header.writeUInt32LE(crc32(data), 0);
    header.writeUInt32LE(data.length, 4);
    const position = this.written;
    const total = RECORD_HEADER_BYTES + data.length;
    // One writev; a short write (rare: a full disk, a signal) finishes with plain writes.
    const n = fs.writevSync(this.fd, [header, data], position);
    if (n < RECORD_HEADER_BYTES) writeFully(this.fd, header.subarray(n), position + n);
    if (n < total) writeFully(this.fd, data.subarray(Math.max(0, n - RECORD_HEADER_BYTES)), position + Math.max(n, RECORD_HEADER_BYTES));
    this.written = position + total;
    return { segment: this, position, size: data.length };
  }

  adopt(loc: Location): void {
    this.live.add(loc);
    this.liveBytes += RECORD_HEADER_BYTES + loc.size;
  }

  release(loc: Location): void {
    if (this.live.delete(loc)) this.liveBytes -= RECORD_HEADER_BYTES + loc.size;
  }

  /**
   * The value at `position`: a fresh buffer, checked against its length and CRC.
   * @throws KvError KV_VALUE_STORE if the file cannot be read or its bytes do not match.
   */
  read(position: number, size: number): Uint8Array {
    if (this.closed) throw new KvError(KvErrorCode.ValueStore, `value file ${this.path} is closed`);
    const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + size);
    let got = 0;
    try {
      while (got < buf.length) {
        const n = fs.readSync(this.fd, buf, got, buf.length - got, position + got);
        if (n === 0) break;
        got += n;
      }
    } catch (err) {
      throw new KvError(KvErrorCode.ValueStore, `cannot read a value from ${this.path} at ${position}: ${(err as Error).message}`, { cause: err });
    }
    if (got < buf.length) throw corrupt(this.path, position, `the file ends ${buf.length - got} bytes early`);
    const length = buf.readUInt32LE(4);
    if (length !== size) throw corrupt(this.path, position, `length ${length}, expected ${size}`);
    const data = buf.subarray(RECORD_HEADER_BYTES);
    if (crc32(data) !== buf.readUInt32LE(0)) throw corrupt(this.path, position, 'checksum mismatch');
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  }

  /** Closes and deletes the file; reads afterwards fail with KV_VALUE_STORE. */
  remove(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.fd);
      fs.rmSync(this.path, { force: true });
    } catch {
      // Best effort: the directory may be gone; the store rebuilds it from nothing at open.
    }
  }
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function corrupt(path: string, position: number, what: string): KvError {
  return new KvError(KvErrorCode.ValueStore, `value file ${path} is damaged at ${position}: ${what}`);
}
