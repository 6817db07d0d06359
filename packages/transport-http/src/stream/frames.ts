import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '@raftkit/core';
import { HttpErrorCode } from '../errors.js';
import { type Rejection, rejection } from '../server/respond.js';

/**
 * A stream's body is a sequence of frames:
 *
 *   frame = kind u8 | length u32 | payload (length bytes) | mac (32 bytes)
 *   mac   = HMAC-SHA256(stream key, counter u64 | kind u8 | length u32 | payload)
 *
 * where the payload is one batch in the message codec (codec/batch.ts) and `counter` is the
 * frame's position in its stream (0, 1, 2...), never sent: a frame replayed, reordered, dropped
 * from the middle or injected fails its MAC. Kind 0 is a batch (at most `maxBodyBytes`), kind 1
 * one snapshot chunk (at most `maxSnapshotBytes`, exactly one snapshotChunk message).
 */
export const FrameKind = { batch: 0, snapshot: 1 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const HEADER_BYTES = 5;
export const MAC_BYTES = 32;

function mac(key: Buffer, counter: number, header: Buffer, payload: Uint8Array): Buffer {
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeBigUInt64BE(BigInt(counter));
  return createHmac('sha256', key).update(prefix).update(header).update(payload).digest();
}

/** One frame, ready to write (header, payload and MAC in one buffer, so one write). */
export function encodeFrame(key: Buffer, counter: number, kind: FrameKind, payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(kind, 0);
  header.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([header, payload, mac(key, counter, header, payload)]);
}

export interface Frame {
  readonly kind: FrameKind;
  readonly payload: Buffer;
}

/** A frame refused: the stream is closed with this coded error. */
export class FrameError extends Error {
  constructor(readonly rejection: Rejection) {
    super(rejection.message);
  }
}

export interface FrameLimits {
  readonly maxBodyBytes: number;
  readonly maxSnapshotBytes: number;
}

/**
 * Decodes frames as bytes arrive. The length is judged against its kind's limit as soon as the
 * 5-byte header is in, before the payload is buffered; the MAC is checked before a frame is
 * returned. Throws FrameError on the first bad frame (nothing after it may be trusted).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Frames returned so far: the counter the next frame's MAC must cover. */
  private counter = 0;
  /** The header of the frame being received, once its 5 bytes are in. */
  private header: { raw: Buffer; kind: FrameKind; length: number } | null = null;

  constructor(
    private readonly key: Buffer,
    private readonly limits: FrameLimits,
  ) {}

  /** True when no partial frame is buffered (the stream may end here). */
  get idle(): boolean {
    return this.buffered === 0 && this.header === null;
  }

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (!this.header) {
        if (this.buffered < HEADER_BYTES) return frames;
        this.header = this.readHeader(this.take(HEADER_BYTES));
      }
      const need = this.header.length + MAC_BYTES;
      if (this.buffered < need) return frames;
      const rest = this.take(need);
      const payload = rest.subarray(0, this.header.length);
      const expected = mac(this.key, this.counter, this.header.raw, payload);
      if (!timingSafeEqual(expected, rest.subarray(this.header.length))) {
        throw new FrameError(rejection(HttpErrorCode.Unauthorized, `stream frame #${this.counter}: MAC does not match (tampered, replayed, reordered or injected)`));
      }
      frames.push({ kind: this.header.kind, payload });
      this.counter += 1;
      this.header = null;
    }
  }

  private readHeader(raw: Buffer): { raw: Buffer; kind: FrameKind; length: number } {
    const kind = raw.readUInt8(0);
    const length = raw.readUInt32BE(1);
    if (kind !== FrameKind.batch && kind !== FrameKind.snapshot) {
      throw new FrameError(rejection(ErrorCode.BadMessage, `stream frame #${this.counter}: unknown frame kind ${kind}`));
    }
    const limit = kind === FrameKind.snapshot ? this.limits.maxSnapshotBytes : this.limits.maxBodyBytes;
    if (length > limit) {
      const which = kind === FrameKind.snapshot ? 'snapshot chunk frame' : 'frame';
      throw new FrameError(rejection(HttpErrorCode.BodyTooLarge, `stream ${which} #${this.counter} of ${length} bytes exceeds the limit of ${limit} bytes`));
    }
    return { raw: Buffer.from(raw), kind, length };
  }

  /** The next `n` buffered bytes as one buffer (a view when they sit in one chunk). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}
