// Issue 12: streamed snapshots. The codec carries the meta-only `snapshot` (tag 13),
// `snapshotChunk` (14) and `snapshotChunkResponse` (15), refuses malformed ones naming the field,
// refuses the retired snapshot-with-data tags (7, 12), and decodes a chunk's data without
// copying it more than once.
import type { Message, SnapshotChunkRequest, SnapshotChunkResponse } from '@raftkit/core';
import { MiB, diffValues, largeChunk, samplesOfType, sha256Hex } from '@raftkit/transport-suite';
import { describe, expect, it } from 'vitest';
import { expectBadMessage } from './helpers/expectBad.js';
import { MessageTag, RetiredTag, decodeBatch, encodeBatch, encodeMessage, encodeMessages } from '../src/index.js';
import { decodeOwnedBatch } from '../src/codec/batch.js';
import { ByteWriter } from '../src/codec/writer.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const checksum = sha256Hex(Uint8Array.from([1, 2, 3]));
const chunk: SnapshotChunkRequest = {
  type: 'snapshotChunk', from: 'a', to: 'b', term: 3, meta: { index: 5, term: 2, voters: ['a'] },
  size: 2 ** 33, checksum, offset: 2 ** 32, data: Uint8Array.from([9, 8]), crc: 0xdeadbeef,
};
const response: SnapshotChunkResponse = { type: 'snapshotChunkResponse', from: 'b', to: 'a', term: 3, index: 5, checksum, next: 2 ** 32, status: 'corrupt' };
/** from, to (one-letter ids) and term 3, as they follow the tag. */
const AB = '000161' + '000162' + '0000000000000003';
const BA = '000162' + '000161' + '0000000000000003';

describe('layout', () => {
  it('snapshotChunk is tag 14: meta, size, the checksum’s 32 bytes, offset, crc, then data', () => {
    const meta = '0000000000000005' + '0000000000000002' + '00000001' + '000161' + '00'; // index, term, voters ["a"], no membership
    const fields = '0000000200000000' + checksum + '0000000100000000' + 'deadbeef' + '00000002' + '0908';
    expect(hex(encodeMessage(chunk))).toBe('0e' + AB + meta + fields);
  });

  it('snapshotChunkResponse is tag 15: index, checksum, next, status (ok 0, done 1, corrupt 2, rejected 3)', () => {
    expect(hex(encodeMessage(response))).toBe('0f' + BA + '0000000000000005' + checksum + '0000000100000000' + '02');
    const statuses = (['ok', 'done', 'corrupt', 'rejected'] as const).map((status) => encodeMessage({ ...response, status }).at(-1));
    expect(statuses).toEqual([0, 1, 2, 3]);
  });

  it('keeps the tags of the other messages, and never reuses the retired snapshot tags', () => {
    expect(MessageTag).toMatchObject({ vote: 1, append: 3, heartbeat: 5, readIndex: 8, timeoutNow: 10, snapshot: 13, snapshotChunk: 14, snapshotChunkResponse: 15 });
    const used = new Set<number>(Object.values(MessageTag));
    for (const tag of Object.values(RetiredTag)) expect(used.has(tag)).toBe(false);
  });

  it('round-trips chunk data and checksums of every sample exactly, and is canonical', () => {
    const sent: Message[] = [...samplesOfType('snapshotChunk', 'a', 'b'), ...samplesOfType('snapshotChunkResponse', 'a', 'b'), largeChunk('a', 'b', MiB)];
    const bytes = encodeMessages(sent);
    const decoded = decodeBatch(bytes);
    decoded.forEach((m, i) => expect(diffValues(m, sent[i], `#${i}`)).toBeNull());
    expect(hex(encodeMessages(decoded)) === hex(bytes)).toBe(true);
  });
});

describe('decoding copies chunk data at most once', () => {
  const big = largeChunk('a', 'b', MiB);

  it('from a body the router owns, the data is a view into it: no copy', () => {
    const body = encodeMessages([big]);
    const [m] = decodeOwnedBatch(body) as SnapshotChunkRequest[];
    expect(m.data.buffer).toBe(body.buffer);
    expect(diffValues(m.data, big.data)).toBeNull();
  });

  it('otherwise into a buffer of exactly its size, which the input cannot change', () => {
    const body = encodeMessages([big]);
    const [m] = decodeBatch(body) as SnapshotChunkRequest[];
    expect([m.data.byteOffset, m.data.buffer.byteLength]).toEqual([0, MiB]);
    body.fill(0);
    expect(diffValues(m.data, big.data)).toBeNull();
  });
});

describe('the encoder refuses malformed chunks and responses with RAFT_BAD_MESSAGE naming the field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a negative offset', { ...chunk, offset: -1 }, /snapshotChunk\.offset must be a non-negative safe integer, got -1/],
    ['a fractional offset', { ...chunk, offset: 1.5 }, /snapshotChunk\.offset must be a non-negative safe integer/],
    ['an offset of 2^53', { ...chunk, offset: 2 ** 53 }, /snapshotChunk\.offset must be a non-negative safe integer/],
    ['a negative size', { ...chunk, size: -4 }, /snapshotChunk\.size must be a non-negative safe integer/],
    ['data past the end of the snapshot', { ...chunk, size: 2 ** 32 + 1 }, /snapshotChunk\.offset 4294967296 \+ 2 bytes of data run past snapshotChunk\.size 4294967297/],
    ['an uppercase checksum', { ...chunk, checksum: checksum.toUpperCase() }, /snapshotChunk\.checksum must be 64 lowercase hex characters/],
    ['a checksum of 63 characters', { ...chunk, checksum: checksum.slice(1) }, /snapshotChunk\.checksum must be 64 lowercase hex/],
    ['a checksum that is not a string', { ...chunk, checksum: 7 }, /snapshotChunk\.checksum must be .* got number/],
    ['a negative crc', { ...chunk, crc: -1 }, /snapshotChunk\.crc must be a u32/],
    ['a crc of 2^32', { ...chunk, crc: 2 ** 32 }, /snapshotChunk\.crc must be a u32/],
    ['a fractional crc', { ...chunk, crc: 0.5 }, /snapshotChunk\.crc must be a u32/],
    ['data that is not bytes', { ...chunk, data: [1, 2] }, /snapshotChunk\.data must be a Uint8Array/],
    ['a meta at index 0', { ...chunk, meta: { index: 0, term: 1, voters: [] } }, /snapshotChunk\.meta\.index must be >= 1/],
    ['duplicate voters', { ...chunk, meta: { index: 1, term: 1, voters: ['a', 'a'] } }, /snapshotChunk\.meta\.voters has duplicates/],
    ['a bad membership', { ...chunk, meta: { index: 1, term: 1, voters: [], membership: 'x' } }, /snapshotChunk\.meta\.membership must be an object/],
    ['a negative next', { ...response, next: -1 }, /snapshotChunkResponse\.next must be a non-negative safe integer/],
    ['a fractional next', { ...response, next: 0.25 }, /snapshotChunkResponse\.next must be a non-negative safe integer/],
    ['a response checksum in uppercase', { ...response, checksum: checksum.toUpperCase() }, /snapshotChunkResponse\.checksum must be 64 lowercase hex/],
    ['an unknown status', { ...response, status: 'maybe' }, /snapshotChunkResponse\.status must be one of ok, done, corrupt, rejected, got maybe/],
    ['a meta-only snapshot with data-era fields only', { type: 'snapshot', from: 'a', to: 'b', term: 1, snapshot: { meta: { index: 1, term: 1, voters: [] } } }, /snapshot\.meta must be an object/],
  ];
  it.each(cases)('%s', (_, message, pattern) => expectBadMessage(() => encodeMessage(message as Message), pattern));
});

describe('the decoder refuses malformed chunk messages with RAFT_BAD_MESSAGE', () => {
  it('a status byte that names no status', () => {
    const bytes = encodeMessages([response]);
    bytes[bytes.length - 1] = 4;
    expectBadMessage(() => decodeBatch(bytes), /message #0: snapshotChunkResponse\.status at offset \d+ is 4, not one of 0-3/);
  });

  it('chunk data running past the size', () => {
    const bytes = encodeMessages([chunk]);
    // size is the u64 right after the meta: header 7 + tag 1 + from 3 + to 3 + term 8 + meta 8+8+4+3+1 = 46
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(46, 2n ** 32n + 1n);
    expectBadMessage(() => decodeBatch(bytes), /snapshotChunk\.offset 4294967296 \+ 2 bytes of data run past snapshotChunk\.size/);
  });

  it('a membership presence byte other than 0 or 1', () => {
    const bytes = encodeMessages([chunk]);
    bytes[45] = 2;
    expectBadMessage(() => decodeBatch(bytes), /snapshotChunk\.meta has membership at offset 45 must be 0 or 1/);
  });

  it('a chunk cut short in its data', () => {
    const bytes = encodeMessages([chunk]);
    expectBadMessage(() => decodeBatch(bytes.subarray(0, bytes.length - 1)), /truncated: snapshotChunk\.data/);
  });

  it('an older release’s snapshot carrying its data (tags 7 and 12), naming what replaced it', () => {
    for (const tag of [RetiredTag.snapshotWithData, RetiredTag.snapshotWithDataAndMembership]) {
      const w = new ByteWriter();
      w.u8(tag);
      w.str('a', 'from');
      w.str('b', 'to');
      w.u64(3, 'term');
      w.u64(5, 'index');
      w.u64(2, 'meta term');
      w.u32(0);
      w.bytes(Uint8Array.from([1, 2, 3]), 'data');
      expectBadMessage(() => decodeBatch(encodeBatch([w.finish()])), new RegExp(`message type tag ${tag} at offset 7 is a snapshot carrying its data.*snapshotChunk`));
    }
  });
});
