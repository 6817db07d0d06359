import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Acknowledgements on a stream's response body, so that a sender finds a dead or silent stream
 * (a peer host gone without a FIN or RST, a middlebox that dropped the connection's state, a
 * frozen process whose kernel still takes bytes) within a bound instead of writing into it for
 * ever. The sender asks with `x-raftkit-stream-acks: 1` on the open; a receiver that knows them
 * echoes the header on its 200 and then writes, on the response body,
 *
 *   ack = 0x00 | count u64 | HMAC-SHA256(ackKey, index u64 | count u64)
 *   ackKey = HMAC-SHA256(stream key, "raftkit-stream-ack-v1")
 *
 * where `count` is the number of frames it has taken and delivered so far and `index` the ack's
 * position (0, 1, 2...), never sent. The ack key differs from the frame key, so no frame can
 * pass for an ack or the reverse; an ack replayed, reordered or forged fails its MAC. A refusal
 * is still the coded JSON error, after any acks: its first byte `{` tells it from an ack. A
 * peer of an earlier release ignores the header and sends no acks, and the sender then relies
 * on its drain timeout alone, as before.
 */
export const ACK_RECORD_BYTES = 1 + 8 + 32;
const ACK_KIND = 0x00;
const JSON_START = 0x7b; // '{'
const ACK_DOMAIN = 'raftkit-stream-ack-v1';
/** Error answers are small JSON; the rest is not kept. */
const MAX_ERROR_BYTES = 4096;

export function ackKeyOf(streamKey: Buffer): Buffer {
  return createHmac('sha256', streamKey).update(ACK_DOMAIN).digest();
}

function ackMac(key: Buffer, index: number, count: number): Buffer {
  const fields = Buffer.allocUnsafe(16);
  fields.writeBigUInt64BE(BigInt(index), 0);
  fields.writeBigUInt64BE(BigInt(count), 8);
  return createHmac('sha256', key).update(fields).digest();
}

/** The ack record number `index` saying `count` frames were taken. */
export function encodeAck(key: Buffer, index: number, count: number): Buffer {
  const out = Buffer.allocUnsafe(ACK_RECORD_BYTES);
  out.writeUInt8(ACK_KIND, 0);
  out.writeBigUInt64BE(BigInt(count), 1);
  ackMac(key, index, count).copy(out, 9);
  return out;
}

/** An ack record that does not verify: the stream cannot be trusted any further. */
export class AckError extends Error {}

/**
 * Decodes a response body of acks, possibly followed by a JSON error. `push` returns the counts
 * of the acks completed by `chunk`, in order; throws AckError on a bad record.
 */
export class AckDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private index = 0;
  private errorBytes: Buffer[] | null = null;
  private errorSize = 0;

  constructor(private readonly key: Buffer) {}

  /** The JSON error text after the acks, '' if none came. */
  get errorText(): string {
    return this.errorBytes ? Buffer.concat(this.errorBytes).toString('utf8') : '';
  }

  push(chunk: Buffer): number[] {
    if (this.errorBytes) {
      this.keepError(chunk);
      return [];
    }
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const counts: number[] = [];
    while (buf.length > 0) {
      if (buf[0] === JSON_START) {
        this.errorBytes = [];
        this.keepError(buf);
        buf = Buffer.alloc(0);
        break;
      }
      if (buf[0] !== ACK_KIND) throw new AckError(`stream ack #${this.index}: unknown record kind ${buf[0]}`);
      if (buf.length < ACK_RECORD_BYTES) break;
      const count = Number(buf.readBigUInt64BE(1));
      if (!timingSafeEqual(ackMac(this.key, this.index, count), buf.subarray(9, ACK_RECORD_BYTES))) {
        throw new AckError(`stream ack #${this.index}: MAC does not match (tampered, replayed, reordered or injected)`);
      }
      counts.push(count);
      this.index += 1;
      buf = buf.subarray(ACK_RECORD_BYTES);
    }
    this.pending = Buffer.from(buf);
    return counts;
  }

  private keepError(chunk: Buffer): void {
    if (this.errorSize >= MAX_ERROR_BYTES) return;
    this.errorBytes!.push(chunk);
    this.errorSize += chunk.length;
  }
}

/**
 * A receiver's acks: once frames have been delivered, one ack after `delayMs` covering all of
 * them (at most one ack per `delayMs` while frames keep coming, so acks cost little next to
 * the frames they answer).
 */
export class AckWriter {
  private index = 0;
  private taken = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly key: Buffer,
    private readonly write: (record: Buffer) => void,
    private readonly delayMs: number,
  ) {}

  /** `n` more frames were taken and their messages delivered. */
  took(n: number): void {
    if (this.stopped || n === 0) return;
    this.taken += n;
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  /** No ack after this one (the stream ended or failed). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    this.timer = null;
    if (this.stopped) return;
    this.write(encodeAck(this.key, this.index, this.taken));
    this.index += 1;
  }
}
