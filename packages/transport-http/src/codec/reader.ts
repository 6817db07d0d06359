import { MAX_TERM } from '@raftkit/core';
import { MAX_SAFE_HIGH_WORD, TWO_POW_32, badMessage } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bounds-checked big-endian reads over untrusted bytes. Every failure is a RAFT_BAD_MESSAGE
 * naming the field and offset, so a peer sending garbage learns what was wrong.
 */
export class ByteReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  /** See `largeBytesField`. */
  private readonly borrow: boolean;

  constructor(bytes: Uint8Array, options: { borrow?: boolean } = {}) {
    this.bytes = bytes;
    this.borrow = options.borrow === true;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++];
  }

  bool(field: string): boolean {
    const at = this.pos;
    const value = this.u8(field);
    if (value > 1) throw badMessage(`${field} at offset ${at} must be 0 or 1, got ${value}`);
    return value === 1;
  }

  u32(field: string): number {
    this.need(4, field);
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }

  /** A uint64 that must be a safe integer; larger values are refused, never rounded. */
  u64(field: string): number {
    this.need(8, field);
    const high = this.view.getUint32(this.pos);
    const low = this.view.getUint32(this.pos + 4);
    if (high > MAX_SAFE_HIGH_WORD) throw badMessage(`${field} at offset ${this.pos} exceeds 2^53 - 1`);
    this.pos += 8;
    return high * TWO_POW_32 + low;
  }

  /**
   * A term: a u64 no larger than core's MAX_TERM. A peer adopting a term near 2^53 could never
   * campaign again (term + 1 would not be a safe integer), so such a message is refused here.
   */
  term(field: string): number {
    const at = this.pos;
    const value = this.u64(field);
    if (value > MAX_TERM) throw badMessage(`${field} at offset ${at} is ${value}, above MAX_TERM (${MAX_TERM})`);
    return value;
  }

  str(field: string): string {
    this.need(2, field);
    const length = this.view.getUint16(this.pos);
    this.pos += 2;
    this.need(length, field);
    const start = this.pos;
    this.pos += length;
    try {
      return utf8.decode(this.bytes.subarray(start, this.pos));
    } catch {
      throw badMessage(`${field} at offset ${start} is not valid UTF-8`);
    }
  }

  /** `length` bytes without a length prefix, as lowercase hex (a checksum). */
  hex(length: number, field: string): string {
    this.need(length, field);
    const start = this.pos;
    this.pos += length;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, length).toString('hex');
  }

  /**
   * Length-prefixed bytes, copied out: the receiver owns them, and a small entry kept in the
   * log does not pin a whole 64 MiB request body in memory.
   */
  bytesField(field: string): Uint8Array {
    const length = this.u32(field);
    this.need(length, field);
    const copy = new Uint8Array(length);
    copy.set(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return copy;
  }

  /**
   * Like `bytesField`, but when the reader borrows its input (the router's own request body) a
   * view instead of a copy: a snapshot is nearly the whole body, and copying 1 GiB would double
   * the memory a snapshot costs.
   */
  largeBytesField(field: string): Uint8Array {
    if (!this.borrow) return this.bytesField(field);
    const length = this.u32(field);
    this.need(length, field);
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  /** Refuses trailing bytes: the encoding's length must match exactly. */
  end(): void {
    if (this.remaining !== 0) throw badMessage(`${this.remaining} unexpected trailing bytes at offset ${this.pos}`);
  }

  private need(count: number, field: string): void {
    if (count > this.remaining) {
      throw badMessage(`truncated: ${field} needs ${count} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
  }
}
