import type { NodeId, SnapshotChunkRequest, SnapshotChunkResponse, SnapshotChunkStatus, SnapshotMeta, SnapshotRequest } from '@raftkit/core';
import type { Base, BodyCodec } from './bodyCodec.js';
import { checkChunkExtent, checkSnapshotMeta, checkVoters } from './checks.js';
import { badMessage } from './errors.js';
import { confStateSizeHint, readConfState, writeConfState } from './membership.js';
import type { ByteReader } from './reader.js';
import type { ByteWriter } from './writer.js';

/**
 * The streamed-snapshot messages (tags 13-15, see messages.ts):
 *
 *   meta                  = index u64 | term u64 | voters (u32 count of str) | has membership u8 | [membership]
 *   snapshot              = meta
 *   snapshotChunk         = meta | size u64 | checksum (32 bytes) | offset u64 | crc u32 | data bytes
 *   snapshotChunkResponse = index u64 | checksum (32 bytes) | next u64 | status u8
 *
 * `checksum` is a SHA-256 in lowercase hex in the message and its 32 raw bytes on the wire, so
 * it is canonical. Chunk data comes last: decoding a request body the router owns gives a view
 * into it, not a copy (ByteReader.largeBytesField).
 */

const CHECKSUM_BYTES = 32;
const CHECKSUM = /^[0-9a-f]{64}$/;

/** Wire codes of SnapshotChunkStatus; never renumber. */
const STATUSES: readonly SnapshotChunkStatus[] = ['ok', 'done', 'corrupt', 'rejected'];

function writeMeta(w: ByteWriter, meta: SnapshotMeta, at: string): void {
  if (meta === null || typeof meta !== 'object') throw badMessage(`${at} must be an object`);
  w.u64(meta.index, `${at}.index`);
  w.term(meta.term, `${at}.term`);
  checkSnapshotMeta(meta.index, meta.term, at);
  if (!Array.isArray(meta.voters)) throw badMessage(`${at}.voters must be an array`);
  w.u32(meta.voters.length);
  meta.voters.forEach((voter, i) => w.str(voter, `${at}.voters[${i}]`));
  checkVoters(meta.voters, at);
  const hasMembership = meta.membership !== undefined;
  w.bool(hasMembership, `${at} has membership`);
  if (hasMembership) writeConfState(w, meta.membership!, `${at}.membership`);
}

function readMeta(r: ByteReader, at: string): SnapshotMeta {
  const index = r.u64(`${at}.index`);
  const term = r.term(`${at}.term`);
  checkSnapshotMeta(index, term, at);
  const count = r.u32(`${at}.voters count`);
  const voters: NodeId[] = [];
  // No preallocation from `count`: each voter consumes bytes, so a lying count fails fast.
  for (let i = 0; i < count; i++) voters.push(r.str(`${at}.voters[${i}]`));
  checkVoters(voters, at);
  // Absent, not undefined, without membership: the message is exactly what was sent.
  if (!r.bool(`${at} has membership`)) return { index, term, voters };
  return { index, term, voters, membership: readConfState(r, `${at}.membership`) };
}

function metaSizeHint(meta: SnapshotMeta | undefined): number {
  const voters = Array.isArray(meta?.voters) ? meta.voters.reduce((n, v) => n + 2 + 3 * String(v).length, 0) : 0;
  return 32 + voters + confStateSizeHint(meta?.membership);
}

function writeChecksum(w: ByteWriter, checksum: unknown, field: string): void {
  if (typeof checksum !== 'string' || !CHECKSUM.test(checksum)) {
    const got = typeof checksum === 'string' ? JSON.stringify(checksum.slice(0, 80)) : typeof checksum;
    throw badMessage(`${field} must be 64 lowercase hex characters (a SHA-256), got ${got}`);
  }
  w.raw(Buffer.from(checksum, 'hex'));
}

export const snapshotCodec: BodyCodec<'snapshot'> = {
  write: (w, m) => writeMeta(w, m.meta, 'snapshot.meta'),
  read: (r, base: Base): SnapshotRequest => ({ type: 'snapshot', ...base, meta: readMeta(r, 'snapshot.meta') }),
};

export const snapshotChunkCodec: BodyCodec<'snapshotChunk'> = {
  write: (w, m) => {
    writeMeta(w, m.meta, 'snapshotChunk.meta');
    w.u64(m.size, 'snapshotChunk.size');
    writeChecksum(w, m.checksum, 'snapshotChunk.checksum');
    w.u64(m.offset, 'snapshotChunk.offset');
    w.u32Field(m.crc, 'snapshotChunk.crc');
    if (!(m.data instanceof Uint8Array)) throw badMessage('snapshotChunk.data must be a Uint8Array');
    checkChunkExtent(m.offset, m.data.byteLength, m.size);
    w.bytes(m.data, 'snapshotChunk.data');
  },
  read: (r, base: Base): SnapshotChunkRequest => {
    const meta = readMeta(r, 'snapshotChunk.meta');
    const size = r.u64('snapshotChunk.size');
    const checksum = r.hex(CHECKSUM_BYTES, 'snapshotChunk.checksum');
    const offset = r.u64('snapshotChunk.offset');
    const crc = r.u32('snapshotChunk.crc');
    const data = r.largeBytesField('snapshotChunk.data');
    checkChunkExtent(offset, data.byteLength, size);
    return { type: 'snapshotChunk', ...base, meta, size, checksum, offset, data, crc };
  },
};

export const snapshotChunkResponseCodec: BodyCodec<'snapshotChunkResponse'> = {
  write: (w, m) => {
    w.u64(m.index, 'snapshotChunkResponse.index');
    writeChecksum(w, m.checksum, 'snapshotChunkResponse.checksum');
    w.u64(m.next, 'snapshotChunkResponse.next');
    const status = STATUSES.indexOf(m.status);
    if (status < 0) throw badMessage(`snapshotChunkResponse.status must be one of ${STATUSES.join(', ')}, got ${String(m.status)}`);
    w.u8(status);
  },
  read: (r, base: Base): SnapshotChunkResponse => {
    const index = r.u64('snapshotChunkResponse.index');
    const checksum = r.hex(CHECKSUM_BYTES, 'snapshotChunkResponse.checksum');
    const next = r.u64('snapshotChunkResponse.next');
    const at = r.offset;
    const code = r.u8('snapshotChunkResponse.status');
    const status = STATUSES[code];
    if (status === undefined) throw badMessage(`snapshotChunkResponse.status at offset ${at} is ${code}, not one of 0-${STATUSES.length - 1} (${STATUSES.join(', ')})`);
    return { type: 'snapshotChunkResponse', ...base, index, checksum, next, status };
  },
};

/** Bytes a chunk needs, so the writer is sized once: regrowing a large chunk's buffer would copy it again. */
export function snapshotSizeHint(m: SnapshotRequest | SnapshotChunkRequest): number {
  const data = m.type === 'snapshotChunk' && m.data instanceof Uint8Array ? m.data.byteLength + 64 : 0;
  return 96 + metaSizeHint(m.meta) + data;
}
