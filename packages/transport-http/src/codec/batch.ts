import { ErrorCode, isRaftError } from '@raftkit/core';
import type { Message } from '@raftkit/core';
import { badMessage } from './errors.js';
import { readMessage, sizeHint, writeMessage } from './messages.js';
import { ByteReader } from './reader.js';
import { ByteWriter } from './writer.js';

/**
 * A batch on the wire:
 *
 *   magic "RK" (2 bytes) | version (uint8, = 1) | count (uint32) | count messages
 *
 * and each message: tag (uint8) | from (str) | to (str) | term (uint64) | type's fields.
 * Integers are big-endian; str = uint16 byte length + UTF-8; bytes = uint32 length + raw.
 * Version 1 grows only by new tags (messages.ts `VariantTag`), see protocol.ts.
 */
export const WIRE_MAGIC: readonly number[] = [0x52, 0x4b];
export const WIRE_VERSION = 1;
const HEADER_BYTES = WIRE_MAGIC.length + 1 + 4;

/**
 * Encodes one message into a standalone frame. Done at `send` time: the frame is a copy, so a
 * sender mutating the message afterwards cannot change what is delivered.
 */
export function encodeMessage(message: Message): Uint8Array {
  const w = new ByteWriter(sizeHint(message));
  writeMessage(w, message);
  return w.finish();
}

/** Joins frames from `encodeMessage` under one batch header. */
export function encodeBatch(frames: readonly Uint8Array[]): Uint8Array {
  const size = frames.reduce((n, f) => n + f.byteLength, HEADER_BYTES);
  const out = new Uint8Array(size);
  out.set(WIRE_MAGIC, 0);
  out[WIRE_MAGIC.length] = WIRE_VERSION;
  new DataView(out.buffer).setUint32(WIRE_MAGIC.length + 1, frames.length);
  let pos = HEADER_BYTES;
  for (const frame of frames) {
    out.set(frame, pos);
    pos += frame.byteLength;
  }
  return out;
}

/** Encodes messages as one batch. Throws RAFT_BAD_MESSAGE if any message is malformed. */
export function encodeMessages(messages: readonly Message[]): Uint8Array {
  return encodeBatch(messages.map(encodeMessage));
}

/** Prefixes a decoding error with the message's position, leaving other errors (bugs) alone. */
function readNumbered(r: ByteReader, i: number): Message {
  try {
    return readMessage(r);
  } catch (err) {
    if (isRaftError(err, ErrorCode.BadMessage)) throw badMessage(`message #${i}: ${err.message}`);
    throw err;
  }
}

function readHeader(r: ByteReader): number {
  for (const [i, expected] of WIRE_MAGIC.entries()) {
    if (r.u8('magic') !== expected) throw badMessage(`not a raftkit batch: bad magic byte ${i}`);
  }
  const version = r.u8('version');
  if (version !== WIRE_VERSION) throw badMessage(`unsupported wire version ${version}, this node speaks ${WIRE_VERSION}`);
  return r.u32('message count');
}

/**
 * Decodes and fully validates a batch from untrusted bytes. Throws RAFT_BAD_MESSAGE, and
 * nothing else, for anything but an exact, valid encoding.
 */
export function decodeBatch(bytes: Uint8Array): Message[] {
  return decodeWith(bytes, false);
}

/**
 * `decodeBatch` for a buffer the caller gives up: snapshot data is a view into it, not a copy.
 * Entry data is still copied, so a small entry kept in the log pins no large body.
 */
export function decodeOwnedBatch(bytes: Uint8Array): Message[] {
  return decodeWith(bytes, true);
}

function decodeWith(bytes: Uint8Array, borrow: boolean): Message[] {
  if (!(bytes instanceof Uint8Array)) throw badMessage('a batch must be bytes');
  const r = new ByteReader(bytes, { borrow });
  const count = readHeader(r);
  const messages: Message[] = [];
  // No preallocation from `count`: each message consumes bytes, so a lying count fails fast.
  for (let i = 0; i < count; i++) messages.push(readNumbered(r, i));
  r.end();
  return messages;
}
