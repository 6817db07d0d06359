// On-disk layout (format version 3). Keys sort entries by index:
//   00 01            format version   u32: the oldest format that can read everything stored
//   00 02            hard state       crc32c | term u64 | commit u64 | hasVote u8 | vote utf8
//   00 03            snapshot meta    (formats 1-2 only, migrated on open) crc32c | index u64 |
//                                     term u64 | dataLength u64 | dataCrc u32 | voterCount u32 |
//                                     (length u32 | utf8)* | [membershipLength u32 | membership]
//   00 04            snapshot data    (formats 1-2 only) raw bytes, checked against the meta
//   00 05            snapshot pointer crc32c | size u64 | sha256 (32 bytes) | nameLength u32 |
//                                     file name utf8 | snapshot meta (the 00 03 layout)
//   00 06            log start        crc32c | index u64 | term u64: the entry before the first
//                                     held one (the log is compacted up to it)
//   01 <index u64>   log entry        crc32c | index u64 | term u64 | type u8 | data
// Every crc32c covers the rest of its value. Integers are big-endian.
import { EntryType, decodeConfEntry, encodeConfEntry, type ConfState, type Entry, type HardState, type SnapshotMeta } from '@raftkit/core';
import { crc32c } from './crc32c.js';
import { corrupt } from './errors.js';

/**
 * Format 2 adds the membership to the snapshot metadata (an optional tail, so every version-1
 * value reads unchanged). A new database starts at 2; one written by format 1 stays at 1 (and
 * openable by the previous release) until a snapshot with membership is installed, which
 * writes 2 in the same synced batch: from then on a version-1 reader refuses it with
 * RAFT_STORAGE_VERSION instead of misreading the new tail as corruption.
 *
 * Format 3 keeps snapshot bytes in files (snapshotFiles.ts) and the log start apart from the
 * snapshot (the log may start below it). Opening an older database migrates it: its snapshot
 * value is copied to a file, and one synced batch writes the pointer, the log start and
 * version 3 and deletes the old keys.
 */
export const FORMAT_VERSION = 3;
/** The format a snapshot's metadata needs its readers to understand. */
export function formatOfMeta(meta: SnapshotMeta): number {
  return meta.membership === undefined ? 1 : 2;
}

export const versionKey = Buffer.from([0x00, 0x01]);
export const hardStateKey = Buffer.from([0x00, 0x02]);
export const snapshotMetaKey = Buffer.from([0x00, 0x03]);
export const snapshotDataKey = Buffer.from([0x00, 0x04]);
export const snapshotPointerKey = Buffer.from([0x00, 0x05]);
export const logStartKey = Buffer.from([0x00, 0x06]);
const ENTRY_PREFIX = 0x01;
/** Upper bound (exclusive) of all entry keys. */
export const entryKeysEnd = Buffer.from([ENTRY_PREFIX + 1]);

const U32 = 2 ** 32;
const ENTRY_HEADER = 21;
const entryTypes: ReadonlySet<number> = new Set(Object.values(EntryType));

function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32BE(Math.floor(value / U32), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(buf: Buffer, offset: number, what: string): number {
  const value = buf.readUInt32BE(offset) * U32 + buf.readUInt32BE(offset + 4);
  if (!Number.isSafeInteger(value)) throw corrupt(`${what} holds an out-of-range number`);
  return value;
}

/** Fills the checksum slot (bytes 0..3) with the crc32c of the rest. */
function seal(buf: Buffer): Buffer {
  buf.writeUInt32BE(crc32c(buf.subarray(4)), 0);
  return buf;
}

function checkSeal(buf: Buffer, minLength: number, what: string): void {
  if (buf.length < minLength) throw corrupt(`${what} is truncated (${buf.length} bytes)`);
  const stored = buf.readUInt32BE(0);
  const computed = crc32c(buf.subarray(4));
  if (stored !== computed) {
    throw corrupt(`${what} failed its checksum (stored ${hex(stored)}, computed ${hex(computed)})`);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = ENTRY_PREFIX;
  writeU64(key, index, 1);
  return key;
}

/** The index an entry key names; throws if the key is not a well-formed entry key. */
export function indexOfKey(key: Buffer): number {
  if (key.length !== 9 || key[0] !== ENTRY_PREFIX) throw corrupt(`malformed entry key ${key.toString('hex')}`);
  return readU64(key, 1, 'an entry key');
}

/** Encodes (and so copies) an entry; the result is independent of the caller's buffers. */
export function encodeEntry(entry: Entry): Buffer {
  const buf = Buffer.allocUnsafe(ENTRY_HEADER + entry.data.byteLength);
  writeU64(buf, entry.index, 4);
  writeU64(buf, entry.term, 12);
  buf[20] = entry.type;
  buf.set(entry.data, ENTRY_HEADER);
  return seal(buf);
}

/** Decodes the value stored under `entryKey(index)`, verifying checksum and contents. */
export function decodeEntry(value: Buffer, index: number): Entry {
  const what = `log entry ${index}`;
  checkSeal(value, ENTRY_HEADER, what);
  const stored = readU64(value, 4, what);
  if (stored !== index) throw corrupt(`${what} holds the entry of index ${stored}`);
  const term = readU64(value, 12, what);
  const type = value[20];
  if (term < 1 || !entryTypes.has(type)) throw corrupt(`${what} has an invalid term or type`);
  return { index, term, type: type as EntryType, data: value.subarray(ENTRY_HEADER) };
}

export function encodeHardState(hs: HardState): Buffer {
  const vote = hs.vote === null ? null : Buffer.from(hs.vote, 'utf8');
  const buf = Buffer.allocUnsafe(21 + (vote?.length ?? 0));
  writeU64(buf, hs.term, 4);
  writeU64(buf, hs.commit, 12);
  buf[20] = vote ? 1 : 0;
  vote?.copy(buf, 21);
  return seal(buf);
}

export function decodeHardState(value: Buffer): HardState {
  checkSeal(value, 21, 'the hard state');
  const term = readU64(value, 4, 'the hard state');
  const commit = readU64(value, 12, 'the hard state');
  const vote = value[20] === 1 ? value.toString('utf8', 21) : null;
  if (value[20] > 1 || (vote === null && value.length !== 21)) throw corrupt('the hard state has an invalid vote');
  return Object.freeze({ term, vote, commit });
}

/** Snapshot metadata plus what is needed to verify the separately stored data. */
export interface StoredSnapshotMeta {
  readonly meta: SnapshotMeta;
  readonly dataLength: number;
  readonly dataCrc: number;
}

/**
 * Snapshot metadata as held in memory: frozen, so callers of state() cannot alter it. The
 * membership is copied through the configuration-entry encoding, which also validates it.
 */
export function freezeMeta(meta: SnapshotMeta): SnapshotMeta {
  const base = { index: meta.index, term: meta.term, voters: Object.freeze([...meta.voters]) };
  if (meta.membership === undefined) return Object.freeze(base);
  return Object.freeze({ ...base, membership: decodeConfEntry(encodeConfEntry(meta.membership)) });
}

export function encodeSnapshotMeta(meta: SnapshotMeta, data: Uint8Array): Buffer {
  const voters = meta.voters.map((v) => Buffer.from(v, 'utf8'));
  // The configuration entry's own JSON encoding: versioned and validated on the way back.
  const membership = meta.membership === undefined ? null : Buffer.from(encodeConfEntry(meta.membership));
  const size = 36 + voters.reduce((n, v) => n + 4 + v.length, 0) + (membership ? 4 + membership.length : 0);
  const buf = Buffer.allocUnsafe(size);
  writeU64(buf, meta.index, 4);
  writeU64(buf, meta.term, 12);
  writeU64(buf, data.byteLength, 20);
  buf.writeUInt32BE(crc32c(data), 28);
  buf.writeUInt32BE(voters.length, 32);
  let offset = 36;
  for (const v of voters) {
    buf.writeUInt32BE(v.length, offset);
    v.copy(buf, offset + 4);
    offset += 4 + v.length;
  }
  if (membership) {
    buf.writeUInt32BE(membership.length, offset);
    membership.copy(buf, offset + 4);
  }
  return seal(buf);
}

/** The optional membership tail at `offset` (absent in format-1 metadata). */
function decodeMembership(value: Buffer, offset: number, what: string): ConfState | undefined {
  if (offset === value.length) return undefined;
  const length = offset + 4 <= value.length ? value.readUInt32BE(offset) : Infinity;
  if (offset + 4 + length !== value.length) throw corrupt(`${what} has a truncated membership or trailing bytes`);
  try {
    return decodeConfEntry(value.subarray(offset + 4));
  } catch (err) {
    throw corrupt(`${what} holds a membership that cannot be decoded (${(err as Error).message})`);
  }
}

export function decodeSnapshotMeta(value: Buffer): StoredSnapshotMeta {
  const what = 'the snapshot metadata';
  checkSeal(value, 36, what);
  const index = readU64(value, 4, what);
  const term = readU64(value, 12, what);
  const dataLength = readU64(value, 20, what);
  const dataCrc = value.readUInt32BE(28);
  const voters: string[] = [];
  let offset = 36;
  for (let n = value.readUInt32BE(32); n > 0; n--) {
    const length = offset + 4 <= value.length ? value.readUInt32BE(offset) : Infinity;
    if (offset + 4 + length > value.length) throw corrupt(`${what} has a truncated voter list`);
    voters.push(value.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  const membership = decodeMembership(value, offset, what);
  const base = { index, term, voters: Object.freeze(voters) };
  return { meta: Object.freeze(membership ? { ...base, membership } : base), dataLength, dataCrc };
}

export function checkSnapshotData(data: Buffer, stored: StoredSnapshotMeta): void {
  const what = `the snapshot data (index ${stored.meta.index})`;
  if (data.length !== stored.dataLength) throw corrupt(`${what} has ${data.length} bytes, expected ${stored.dataLength}`);
  if (crc32c(data) !== stored.dataCrc) throw corrupt(`${what} failed its checksum`);
}

export function encodeVersion(version: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeUInt32BE(version, 0);
  return buf;
}

export function decodeVersion(value: Buffer): number {
  if (value.length !== 4) throw corrupt(`the format version key holds ${value.length} bytes, expected 4`);
  return value.readUInt32BE(0);
}

/** Where the installed snapshot's bytes are, and what they are. */
export interface SnapshotPointer {
  readonly meta: SnapshotMeta;
  /** File name inside the snapshot directory. */
  readonly file: string;
  readonly size: number;
  /** SHA-256, lowercase hex. */
  readonly checksum: string;
}

export function encodePointer(p: SnapshotPointer): Buffer {
  const name = Buffer.from(p.file, 'utf8');
  const meta = encodeSnapshotMeta(p.meta, new Uint8Array(0));
  const buf = Buffer.allocUnsafe(48 + name.length + meta.length);
  writeU64(buf, p.size, 4);
  Buffer.from(p.checksum, 'hex').copy(buf, 12);
  buf.writeUInt32BE(name.length, 44);
  name.copy(buf, 48);
  meta.copy(buf, 48 + name.length);
  return seal(buf);
}

export function decodePointer(value: Buffer): SnapshotPointer {
  const what = 'the snapshot pointer';
  checkSeal(value, 48, what);
  const size = readU64(value, 4, what);
  const checksum = value.toString('hex', 12, 44);
  const nameLength = value.readUInt32BE(44);
  if (48 + nameLength > value.length) throw corrupt(`${what} has a truncated file name`);
  const file = value.toString('utf8', 48, 48 + nameLength);
  const { meta } = decodeSnapshotMeta(value.subarray(48 + nameLength));
  return { meta, file, size, checksum };
}

/** The log start: the index before the first held entry, and its term. */
export interface LogStart {
  readonly index: number;
  readonly term: number;
}

export function encodeLogStart(start: LogStart): Buffer {
  const buf = Buffer.allocUnsafe(20);
  writeU64(buf, start.index, 4);
  writeU64(buf, start.term, 12);
  return seal(buf);
}

export function decodeLogStart(value: Buffer): LogStart {
  checkSeal(value, 20, 'the log start');
  if (value.length !== 20) throw corrupt(`the log start holds ${value.length} bytes, expected 20`);
  return { index: readU64(value, 4, 'the log start'), term: readU64(value, 12, 'the log start') };
}
