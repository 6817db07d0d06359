import { randomBytes } from 'node:crypto';
import { ErrorCode } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import { HttpErrorCode } from '../src/index.js';
import { FrameDecoder, FrameError, FrameKind, MAC_BYTES, encodeFrame } from '../src/stream/frames.js';

// The frame layer alone: kind u8 | length u32 | payload | MAC over (counter, header, payload).

const key = randomBytes(32);
const limits = { maxBodyBytes: 1000, maxSnapshotBytes: 5000 };
const payloads = [Buffer.from('first'), Buffer.alloc(0), randomBytes(900)];

function refusal(decoder: FrameDecoder, bytes: Buffer): FrameError {
  try {
    decoder.push(bytes);
  } catch (err) {
    if (err instanceof FrameError) return err;
    throw err;
  }
  throw new Error('the frame was accepted');
}

describe('stream frames', () => {
  it('lays a frame out as kind, big-endian length, payload, 32-byte MAC', () => {
    const frame = encodeFrame(key, 0, FrameKind.snapshot, Buffer.from('abc'));
    expect(frame.length).toBe(5 + 3 + MAC_BYTES);
    expect([...frame.subarray(0, 8)]).toEqual([1, 0, 0, 0, 3, 0x61, 0x62, 0x63]);
  });

  it('decodes frames fed one byte at a time, and all at once, to the same payloads', () => {
    const wire = Buffer.concat(payloads.map((p, i) => encodeFrame(key, i, FrameKind.batch, p)));
    const whole = new FrameDecoder(key, limits).push(wire);
    const bytewise = new FrameDecoder(key, limits);
    const got = [];
    for (const byte of wire) got.push(...bytewise.push(Buffer.from([byte])));
    for (const frames of [whole, got]) expect(frames.map((f) => Buffer.from(f.payload))).toEqual(payloads);
    expect(bytewise.idle).toBe(true);
  });

  it('is not idle in the middle of a frame', () => {
    const decoder = new FrameDecoder(key, limits);
    decoder.push(encodeFrame(key, 0, FrameKind.batch, Buffer.from('x')).subarray(0, 7));
    expect(decoder.idle).toBe(false);
  });

  it('refuses a frame whose counter is not the next one (replayed or reordered)', () => {
    const decoder = new FrameDecoder(key, limits);
    decoder.push(encodeFrame(key, 0, FrameKind.batch, payloads[0]));
    const err = refusal(decoder, encodeFrame(key, 0, FrameKind.batch, payloads[0]));
    expect(err.rejection.code).toBe(HttpErrorCode.Unauthorized);
    expect(err.message).toMatch(/frame #1: MAC does not match/);
  });

  it('refuses a changed kind (the header is under the MAC too)', () => {
    const frame = encodeFrame(key, 0, FrameKind.batch, payloads[0]);
    frame[0] = FrameKind.snapshot;
    expect(refusal(new FrameDecoder(key, limits), frame).rejection.code).toBe(HttpErrorCode.Unauthorized);
  });

  it('judges the length against its kind from the header alone', () => {
    const header = (kind: number, length: number) => Buffer.from([kind, length >>> 24, (length >>> 16) & 255, (length >>> 8) & 255, length & 255]);
    expect(refusal(new FrameDecoder(key, limits), header(FrameKind.batch, 1001)).message).toMatch(/frame #0 of 1001 bytes exceeds the limit of 1000 bytes/);
    expect(new FrameDecoder(key, limits).push(header(FrameKind.snapshot, 1001))).toEqual([]);
    expect(refusal(new FrameDecoder(key, limits), header(FrameKind.snapshot, 5001)).rejection.code).toBe(HttpErrorCode.BodyTooLarge);
    const unknown = refusal(new FrameDecoder(key, limits), header(7, 1));
    expect(unknown.rejection.code).toBe(ErrorCode.BadMessage);
    expect(unknown.message).toMatch(/unknown frame kind 7/);
  });
});
