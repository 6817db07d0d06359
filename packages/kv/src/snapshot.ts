import { DecodeError, Reader, Writer } from './codec/binary.js';
import { crc32 } from './codec/crc32.js';
import { readKey } from './commands.js';
import { KvError, KvErrorCode } from './errors.js';
import type { KeySpace } from './keySpace.js';
import { readResult, writeResult, type KvWriteResult } from './results.js';
import type { Session, SessionTable } from './sessions.js';
import { readValue, writeValue } from './values.js';

/** "RKKV": tells a kv snapshot from anything else before its version is read. */
const MAGIC = [0x52, 0x4b, 0x4b, 0x56] as const;
export const SNAPSHOT_VERSION = 1;

export interface SnapshotState {
  readonly index: number;
  readonly logClock: number;
  readonly sessions: SessionTable;
  readonly keys: KeySpace;
}

/**
 * Layout (v1), every part in a fixed order so equal states give equal bytes:
 * `"RKKV", u8 version, varint index, varint logClock,
 *  varint sessionCount, session * n   (in expiry order: ascending last use),
 *  varint keyCount, record * n        (in key order),
 *  u32 big-endian CRC-32 of all the bytes before it`
 * where session = `varint clientId, varint lastSeen, varint firstOutstanding, varint
 * resultCount, (varint seq, result) * resultCount` (ascending seq) and record = `key, varint
 * modRevision, value`. Each part is written and read in one pass, so it could be streamed.
 */
export function encodeSnapshot(state: SnapshotState): Uint8Array {
  const w = new Writer(1024);
  for (const b of MAGIC) w.u8(b);
  w.u8(SNAPSHOT_VERSION).varint(state.index).varint(state.logClock);
  w.varint(state.sessions.size);
  for (const s of state.sessions.inOrder()) writeSession(w, s);
  w.varint(state.keys.size);
  for (const [key, rec] of state.keys.inOrder()) {
    w.string(key).varint(rec.modRevision);
    writeValue(w, rec.value);
  }
  const sum = crc32(w.view());
  for (const shift of [24, 16, 8, 0]) w.u8((sum >>> shift) & 0xff);
  return w.finish();
}

function writeSession(w: Writer, s: Session): void {
  w.varint(s.clientId).varint(s.lastSeen).varint(s.firstOutstanding).varint(s.results.size);
  const seqs = [...s.results.keys()].sort((a, b) => a - b);
  for (const seq of seqs) writeResult(w.varint(seq), s.results.get(seq)!);
}

/**
 * Checks and decodes a snapshot into the empty `keys` and `sessions`.
 * @throws KvError KV_SNAPSHOT_CORRUPT on a bad checksum, version or layout.
 */
export function decodeSnapshot(data: Uint8Array, keys: KeySpace, sessions: SessionTable): { index: number; logClock: number } {
  try {
    const body = checkFrame(data);
    const r = new Reader(body);
    const index = r.varint();
    const logClock = r.varint();
    readSessions(r, sessions);
    readKeys(r, keys);
    r.end();
    return { index, logClock };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    throw new KvError(KvErrorCode.SnapshotCorrupt, `kv snapshot does not decode: ${err.message}`, { cause: err });
  }
}

/** Verifies magic, version and checksum; returns the bytes between header and checksum. */
function checkFrame(data: Uint8Array): Uint8Array {
  if (data.length < MAGIC.length + 5) throw new DecodeError(`snapshot of ${data.length} bytes is too short`);
  if (MAGIC.some((b, i) => data[i] !== b)) throw new DecodeError('not a kv snapshot (bad magic)');
  const version = data[MAGIC.length]!;
  if (version !== SNAPSHOT_VERSION) throw new DecodeError(`unsupported snapshot version ${version}`);
  const end = data.length - 4;
  const stored = ((data[end]! << 24) | (data[end + 1]! << 16) | (data[end + 2]! << 8) | data[end + 3]!) >>> 0;
  if (crc32(data.subarray(0, end)) !== stored) throw new DecodeError('checksum mismatch');
  return data.subarray(MAGIC.length + 1, end);
}

function readSessions(r: Reader, sessions: SessionTable): void {
  const count = r.varint();
  for (let i = 0; i < count; i++) {
    const clientId = r.varint();
    const lastSeen = r.varint();
    const firstOutstanding = r.varint();
    const session: Session = { clientId, lastSeen, firstOutstanding, results: readResults(r, firstOutstanding) };
    if (!sessions.append(session)) throw new DecodeError(`session ${clientId} is duplicated or out of expiry order`);
  }
}

function readResults(r: Reader, firstOutstanding: number): Map<number, KvWriteResult> {
  const results = new Map<number, KvWriteResult>();
  const count = r.varint();
  let prev = firstOutstanding - 1;
  for (let i = 0; i < count; i++) {
    const seq = r.varint();
    if (seq <= prev) throw new DecodeError(`cached seq ${seq} out of order or acknowledged`);
    results.set(seq, readResult(r));
    prev = seq;
  }
  return results;
}

function readKeys(r: Reader, keys: KeySpace): void {
  const count = r.varint();
  for (let i = 0; i < count; i++) {
    const key = readKey(r);
    const modRevision = r.varint();
    if (!keys.append(key, { value: readValue(r), modRevision })) throw new DecodeError(`key ${JSON.stringify(key)} out of order`);
  }
}
