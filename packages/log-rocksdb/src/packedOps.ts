// One batch of database operations packed into one ArrayBuffer, so it crosses to the write
// worker as a single transferred buffer instead of a structured clone of many small Buffers.
// The worker decodes it in writeWorker.cjs (`unpack`); test/packedOps.test.ts checks the two agree.
//
// Layout, per operation: type u8 (1 put, 2 del) | key length u32 LE | value length u32 LE
//   (0 for a del) | key | value
import type { RocksBatchOp } from '@nxtedition/rocksdb';

export const PACKED_PUT = 1;
export const PACKED_DEL = 2;
const HEADER = 9;

/**
 * Packs `ops` into a fresh ArrayBuffer of its own (never Node's shared Buffer pool, which
 * must not be transferred: that would detach every pooled Buffer sharing it).
 */
export function packOps(ops: readonly RocksBatchOp[]): ArrayBuffer {
  let size = 0;
  for (const op of ops) size += HEADER + op.key.length + (op.type === 'put' ? op.value.length : 0);
  const buffer = new ArrayBuffer(size);
  const out = Buffer.from(buffer);
  let at = 0;
  for (const op of ops) {
    const value = op.type === 'put' ? op.value : null;
    out[at] = value ? PACKED_PUT : PACKED_DEL;
    out.writeUInt32LE(op.key.length, at + 1);
    out.writeUInt32LE(value?.length ?? 0, at + 5);
    at += HEADER;
    at += op.key.copy(out, at);
    if (value) at += value.copy(out, at);
  }
  return buffer;
}

/** The operations in a packed batch, as views into it (used by tests; the worker has its own). */
export function unpackOps(buffer: ArrayBuffer): RocksBatchOp[] {
  const bytes = Buffer.from(buffer);
  const ops: RocksBatchOp[] = [];
  for (let at = 0; at < bytes.length; ) {
    const type = bytes[at];
    const keyLength = bytes.readUInt32LE(at + 1);
    const valueLength = bytes.readUInt32LE(at + 5);
    at += HEADER;
    const key = bytes.subarray(at, (at += keyLength));
    if (type === PACKED_PUT) ops.push({ type: 'put', key, value: bytes.subarray(at, (at += valueLength)) });
    else ops.push({ type: 'del', key });
  }
  return ops;
}
