// The primitives of every kv encoding: unsigned LEB128 varints (up to 2^53 - 1, so any log
// index or millisecond stamp fits), single bytes, and length-prefixed byte strings.

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Input that does not decode; callers turn it into their own coded error. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Input that ended early: `missing` more bytes (at least) would let the read go on. */
export class TruncatedError extends DecodeError {
  constructor(
    message: string,
    readonly missing: number,
  ) {
    super(message);
    this.name = 'TruncatedError';
  }
}

/** Bytes of `s` in UTF-8. */
export const utf8Bytes = (s: string): Uint8Array => utf8.encode(s);

/** Text of UTF-8 `bytes`; invalid UTF-8 throws DecodeError rather than being replaced. */
export function utf8Text(bytes: Uint8Array): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new DecodeError('invalid UTF-8');
  }
}

/** An append-only byte buffer that grows by doubling. */
export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialSize = 64) {
    this.buf = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.len;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }

  /** Minimal unsigned LEB128: the same number always encodes to the same bytes. */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    this.reserve(8);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  /** Raw bytes, no length prefix. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** A length-prefixed byte string. */
  bytes(bytes: Uint8Array): this {
    return this.varint(bytes.length).raw(bytes);
  }

  /** A length-prefixed UTF-8 string. */
  string(s: string): this {
    return this.bytes(utf8.encode(s));
  }

  /** The bytes written so far, without copying; valid until the next write. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** The bytes written so far (a copy trimmed to length). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/** Reads what a Writer wrote; every read checks bounds and throws DecodeError. */
export class Reader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new TruncatedError(`truncated at byte ${this.pos}`, 1);
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new DecodeError(`non-minimal varint at byte ${this.pos - 1}`);
        if (!Number.isSafeInteger(value)) throw new DecodeError(`varint too large at byte ${this.pos - 1}`);
        return value;
      }
      scale *= 0x80;
    }
    throw new DecodeError(`varint too long at byte ${this.pos}`);
  }

  /** `n` raw bytes, as a view into the input (copy before keeping). */
  raw(n: number): Uint8Array {
    if (n > this.remaining) throw new TruncatedError(`truncated: need ${n} bytes at ${this.pos}, have ${this.remaining}`, n - this.remaining);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  bytes(): Uint8Array {
    return this.raw(this.varint());
  }

  string(): string {
    return utf8Text(this.bytes());
  }

  /** Throws unless every byte was consumed: trailing bytes mean a different format. */
  end(): void {
    if (this.remaining !== 0) throw new DecodeError(`${this.remaining} unexpected trailing bytes at ${this.pos}`);
  }
}
