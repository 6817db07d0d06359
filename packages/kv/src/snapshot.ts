import type { SnapshotStream } from '@raftkit/core';
import { Writer } from './codec/binary.js';
import { crc32Update } from './codec/crc32.js';
import type { KeySpaceCapture } from './keySpace.js';
import { leaseParts } from './leaseCodec.js';
import type { LeaseTableCapture } from './leaseTable.js';
import { writeResult } from './results.js';
import type { CapturedSession } from './sessions.js';
import { writeValue } from './values.js';

/** "RKKV": tells a kv snapshot from anything else before its version is read. */
export const MAGIC = [0x52, 0x4b, 0x4b, 0x56] as const;
/**
 * Version written. The decoder also reads v2 (no lease table) and v1 (records without
 * createRevision, version, lease).
 */
export const SNAPSHOT_VERSION = 3;

/** Largest chunk a snapshot stream yields (every chunk but the last is exactly this long). */
export const SNAPSHOT_CHUNK_BYTES = 256 * 1024;

/** The state a snapshot writes, fixed when it was captured. */
export interface SnapshotCapture {
  readonly index: number;
  readonly logClock: number;
  readonly sessions: readonly CapturedSession[];
  readonly keys: KeySpaceCapture;
  readonly leases: LeaseTableCapture;
}

/**
 * Layout (v3), every part in a fixed order so equal states give equal bytes:
 * `"RKKV", u8 version, varint index, varint logClock,
 *  varint sessionCount, session * n   (in expiry order: ascending last use),
 *  varint keyCount, record * n        (in key order),
 *  lease section                     (leaseCodec.ts: leases by id, each with its keys),
 *  u32 big-endian CRC-32 of all the bytes before it`
 * where session = `varint clientId, varint lastSeen, varint firstOutstanding, varint
 * resultCount, (varint seq, result) * resultCount` (ascending seq; result layout in
 * results.ts) and record = `key, varint modRevision, varint createRevision, varint version,
 * varint lease, value`. v2 was the same without the lease section; v1 also had record =
 * `key, varint modRevision, value`.
 * Counts come first and the checksum last, so it is written and read in one pass: the stream
 * below yields it chunk by chunk, and `SnapshotDecoder` reads it so.
 */
export function snapshotStream(capture: SnapshotCapture, chunkBytes = SNAPSHOT_CHUNK_BYTES): SnapshotStream {
  // Each iteration encodes afresh from the capture, which never changes: re-readable.
  return { [Symbol.asyncIterator]: () => encodeChunks(capture, chunkBytes) };
}

async function* encodeChunks(capture: SnapshotCapture, chunkBytes: number): AsyncGenerator<Uint8Array> {
  const out = new ChunkCutter(chunkBytes);
  let w = new Writer(1024);
  for (const b of MAGIC) w.u8(b);
  w.u8(SNAPSHOT_VERSION).varint(capture.index).varint(capture.logClock);
  w.varint(capture.sessions.length);
  const parts = function* (): Generator<void> {
    for (const s of capture.sessions) yield writeSession(w, s);
    w.varint(capture.keys.size);
    for (const [key, rec] of capture.keys.inOrder()) {
      yield writeValue(w.string(key).varint(rec.modRevision).varint(rec.createRevision).varint(rec.version).varint(rec.lease), rec.value);
    }
    for (const part of leaseParts(capture.leases)) yield part(w);
  };
  for (const _ of parts()) {
    if (w.length < chunkBytes) continue;
    const { chunks, rest } = out.take(w);
    w = rest;
    for (const chunk of chunks) {
      yield chunk;
      // Let the apply loop (and I/O) run between chunks; a one-chunk state never waits.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  yield* out.finish(w);
}

/** Cuts the encoding into chunks of `chunkBytes`, keeping the running CRC of everything cut. */
class ChunkCutter {
  private crc = 0;

  constructor(private readonly chunkBytes: number) {}

  /** The full chunks of `w`'s bytes, and a writer holding the rest (the next chunk's start). */
  take(w: Writer): { chunks: Uint8Array[]; rest: Writer } {
    const bytes = w.view();
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (; bytes.length - at >= this.chunkBytes; at += this.chunkBytes) {
      const chunk = bytes.slice(at, at + this.chunkBytes);
      this.crc = crc32Update(this.crc, chunk);
      chunks.push(chunk);
    }
    const rest = bytes.subarray(at);
    return { chunks, rest: new Writer(Math.max(1024, rest.length * 2)).raw(rest) };
  }

  /** Every remaining chunk, the checksum of all the bytes before it appended. */
  finish(w: Writer): Uint8Array[] {
    const sum = crc32Update(this.crc, w.view());
    for (const shift of [24, 16, 8, 0]) w.u8((sum >>> shift) & 0xff);
    const bytes = w.view();
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += this.chunkBytes) chunks.push(bytes.slice(at, at + this.chunkBytes));
    return chunks;
  }
}

function writeSession(w: Writer, s: CapturedSession): void {
  w.varint(s.clientId).varint(s.lastSeen).varint(s.firstOutstanding).varint(s.results.length);
  for (const [seq, result] of s.results) writeResult(w.varint(seq), result);
}
