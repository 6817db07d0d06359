import { MAX_TERM } from '@raftkit/core';
import { MAX_STRING_BYTES, TWO_POW_32, badMessage } from './errors.js';

const utf8 = new TextEncoder();

/**
 * Appends big-endian fields to a growing buffer, validating each value first so that
 * whatever it produces, the decoder accepts.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  /** `sizeHint` avoids regrowing for large messages (4 MiB appends are copied once). */
  constructor(sizeHint = 256) {
    this.buf = new Uint8Array(Math.max(16, sizeHint));
    this.view = new DataView(this.buf.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.view.setUint8(this.pos, value);
    this.pos += 1;
  }

  bool(value: unknown, field: string): void {
    if (typeof value !== 'boolean') throw badMessage(`${field} must be a boolean, got ${typeof value}`);
    this.u8(value ? 1 : 0);
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  /** A field that must be an integer in [0, 2^32) (a CRC), as uint32. */
  u32Field(value: unknown, field: string): void {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= TWO_POW_32) {
      throw badMessage(`${field} must be a u32 (an integer from 0 to 2^32 - 1), got ${String(value)}`);
    }
    this.u32(value);
  }

  /** Bytes of a fixed, known length, without a length prefix. */
  raw(value: Uint8Array): void {
    this.ensure(value.byteLength);
    this.buf.set(value, this.pos);
    this.pos += value.byteLength;
  }

  /** A non-negative safe integer as uint64: terms and indexes may exceed 2^32. */
  u64(value: unknown, field: string): void {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw badMessage(`${field} must be a non-negative safe integer, got ${String(value)}`);
    }
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(value / TWO_POW_32));
    this.view.setUint32(this.pos + 4, value >>> 0);
    this.pos += 8;
  }

  /** A term: the same bound the decoder applies, so a sent batch is never refused for it. */
  term(value: unknown, field: string): void {
    if (Number.isSafeInteger(value) && (value as number) > MAX_TERM) throw badMessage(`${field} is ${value}, above MAX_TERM (${MAX_TERM})`);
    this.u64(value, field);
  }

  /** UTF-8 with a uint16 byte length. */
  str(value: unknown, field: string): void {
    if (typeof value !== 'string') throw badMessage(`${field} must be a string, got ${typeof value}`);
    const bytes = utf8.encode(value);
    if (bytes.length > MAX_STRING_BYTES) throw badMessage(`${field} is ${bytes.length} bytes, at most ${MAX_STRING_BYTES}`);
    this.ensure(2 + bytes.length);
    this.view.setUint16(this.pos, bytes.length);
    this.buf.set(bytes, this.pos + 2);
    this.pos += 2 + bytes.length;
  }

  /** Raw bytes with a uint32 length; copied, so later changes by the caller do not leak in. */
  bytes(value: unknown, field: string): void {
    if (!(value instanceof Uint8Array)) throw badMessage(`${field} must be a Uint8Array`);
    if (value.byteLength >= TWO_POW_32) throw badMessage(`${field} is larger than 4 GiB`);
    this.u32(value.byteLength);
    this.ensure(value.byteLength);
    this.buf.set(value, this.pos);
    this.pos += value.byteLength;
  }

  /** The bytes written so far (a view, not a copy: the writer is not used after this). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(needed, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }
}
