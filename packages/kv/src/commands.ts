import { DecodeError, Reader, Writer, utf8Text } from './codec/binary.js';
import { estimateTxnSize, readTxn, writeTxn, type TxnWrite } from './txnCodec.js';
import { readOptionalValue, readValue, writeOptionalValue, writeValue, type StoredValue } from './values.js';

/** Longest key, in UTF-8 bytes. A constant, not an option: apply enforces it on every replica. */
export const MAX_KEY_BYTES = 4096;

/** Version byte that starts every command. Bump it for any change to the layout. */
export const COMMAND_VERSION = 1;

/**
 * Exactly-once tag of a write (thesis §6.3): the session, the write's sequence number in it,
 * and the lowest sequence number whose result the client has not yet received. Results below
 * `firstOutstanding` are discarded. Invariant: 1 <= firstOutstanding <= seq.
 */
export interface SessionTag {
  readonly clientId: number;
  readonly seq: number;
  readonly firstOutstanding: number;
}

/** A change to the key space. */
export type KvWrite =
  /** `lease`: the lease the key attaches to; 0 or absent for none. */
  | { readonly op: 'put'; readonly key: string; readonly value: StoredValue; readonly lease?: number }
  | { readonly op: 'delete'; readonly key: string }
  /** Sets `value` iff the key holds `expected` (null: iff the key is absent). */
  | { readonly op: 'cas'; readonly key: string; readonly expected: StoredValue | null; readonly value: StoredValue }
  /** Puts every entry, atomically, at one revision. */
  | { readonly op: 'putMany'; readonly entries: readonly { readonly key: string; readonly value: StoredValue }[] }
  /** Compares, then one branch of ops, atomically at one revision (layout in txnCodec.ts). */
  | TxnWrite
  /** Creates lease `id` (0: the entry's index) with `ttlMs`. */
  | { readonly op: 'leaseGrant'; readonly id: number; readonly ttlMs: number }
  /**
   * Removes lease `id` and deletes every key attached to it. `grantRevision` other than 0:
   * only the lease granted at that revision (an expiry proposed twice never revokes a later
   * grant of the same id). `expired`: the leader's keeper proposed it (the ttl ran out).
   */
  | { readonly op: 'leaseRevoke'; readonly id: number; readonly grantRevision: number; readonly expired: boolean };

/**
 * One log entry's worth of kv work. `stamp` is the proposer's wall clock in milliseconds; the
 * state machine's log clock is the largest stamp applied, and sessions expire by it.
 */
export type KvCommand =
  | { readonly type: 'registerSession'; readonly stamp: number }
  | { readonly type: 'keepAlive'; readonly stamp: number; readonly clientId: number }
  | { readonly type: 'closeSession'; readonly stamp: number; readonly clientId: number }
  /** `session` null: not deduplicated (at-least-once if retried). */
  | { readonly type: 'write'; readonly stamp: number; readonly session: SessionTag | null; readonly write: KvWrite };

const Kind = { RegisterSession: 1, KeepAlive: 2, CloseSession: 3, Put: 4, Delete: 5, Cas: 6, PutMany: 7, Txn: 8, LeaseGrant: 9, LeaseRevoke: 10 } as const;
const writeKind = {
  put: Kind.Put,
  delete: Kind.Delete,
  cas: Kind.Cas,
  putMany: Kind.PutMany,
  txn: Kind.Txn,
  leaseGrant: Kind.LeaseGrant,
  leaseRevoke: Kind.LeaseRevoke,
} as const;

/**
 * Layout (v1): `u8 version, u8 kind, varint stamp`, then by kind:
 * - registerSession: nothing
 * - keepAlive, closeSession: `varint clientId`
 * - put, delete, cas, putMany, txn, leaseGrant, leaseRevoke: `varint clientId` (0: no
 *   session), and if non-zero `varint seq, varint firstOutstanding`; then
 *   put `key, value` and, only for a lease other than 0, `varint lease` · delete `key` ·
 *   cas `key, optional expected, value` · putMany `varint count, (key, value) * count` ·
 *   txn as in txnCodec.ts · leaseGrant `varint id (0: the entry's index), varint ttlMs` ·
 *   leaseRevoke `varint id, varint grantRevision (0: any), u8 expired`
 * where key = length-prefixed UTF-8, value = `u8 kind (0 bytes, 1 JSON), length-prefixed data`,
 * optional value = `u8 0` or `u8 1, value`. Varints are minimal unsigned LEB128.
 */
export function encodeCommand(cmd: KvCommand): Uint8Array {
  const w = new Writer(estimateSize(cmd));
  w.u8(COMMAND_VERSION);
  switch (cmd.type) {
    case 'registerSession':
      w.u8(Kind.RegisterSession).varint(cmd.stamp);
      break;
    case 'keepAlive':
    case 'closeSession':
      w.u8(cmd.type === 'keepAlive' ? Kind.KeepAlive : Kind.CloseSession).varint(cmd.stamp).varint(cmd.clientId);
      break;
    case 'write':
      w.u8(writeKind[cmd.write.op]).varint(cmd.stamp);
      writeSession(w, cmd.session);
      writeBody(w, cmd.write);
      break;
  }
  return w.finish();
}

function estimateSize(cmd: KvCommand): number {
  if (cmd.type !== 'write') return 32;
  const w = cmd.write;
  if (w.op === 'putMany') return 32 + w.entries.reduce((n, e) => n + e.key.length * 3 + e.value.data.length + 16, 0);
  if (w.op === 'delete') return 32 + w.key.length * 3;
  if (w.op === 'txn') return 16 + estimateTxnSize(w);
  if (w.op === 'leaseGrant' || w.op === 'leaseRevoke') return 48;
  return 48 + w.key.length * 3 + w.value.data.length + (w.op === 'cas' ? (w.expected?.data.length ?? 0) : 0);
}

function writeSession(w: Writer, s: SessionTag | null): void {
  if (s === null) {
    w.varint(0);
    return;
  }
  w.varint(s.clientId).varint(s.seq).varint(s.firstOutstanding);
}

function writeBody(w: Writer, write: KvWrite): void {
  switch (write.op) {
    case 'put':
      writeValue(w.string(write.key), write.value);
      // Trailing and only when set, so a lease-less put keeps its v1 bytes.
      if (write.lease !== undefined && write.lease !== 0) w.varint(write.lease);
      return;
    case 'delete':
      w.string(write.key);
      return;
    case 'cas':
      writeOptionalValue(w.string(write.key), write.expected);
      writeValue(w, write.value);
      return;
    case 'putMany':
      w.varint(write.entries.length);
      for (const e of write.entries) writeValue(w.string(e.key), e.value);
      return;
    case 'txn':
      writeTxn(w, write);
      return;
    case 'leaseGrant':
      w.varint(write.id).varint(write.ttlMs);
      return;
    case 'leaseRevoke':
      w.varint(write.id).varint(write.grantRevision).u8(write.expired ? 1 : 0);
      return;
  }
}

/** Decodes and checks a command. @throws DecodeError on anything malformed. */
export function decodeCommand(data: Uint8Array): KvCommand {
  const r = new Reader(data);
  const version = r.u8();
  if (version !== COMMAND_VERSION) throw new DecodeError(`unsupported command version ${version}`);
  const kind = r.u8();
  const stamp = r.varint();
  const cmd = decodeKind(r, kind, stamp);
  r.end();
  return cmd;
}

function decodeKind(r: Reader, kind: number, stamp: number): KvCommand {
  switch (kind) {
    case Kind.RegisterSession:
      return { type: 'registerSession', stamp };
    case Kind.KeepAlive:
      return { type: 'keepAlive', stamp, clientId: readClientId(r) };
    case Kind.CloseSession:
      return { type: 'closeSession', stamp, clientId: readClientId(r) };
    case Kind.Put:
    case Kind.Delete:
    case Kind.Cas:
    case Kind.PutMany:
    case Kind.Txn:
    case Kind.LeaseGrant:
    case Kind.LeaseRevoke: {
      const session = readSession(r);
      return { type: 'write', stamp, session, write: readBody(r, kind) };
    }
    default:
      throw new DecodeError(`unknown command kind ${kind}`);
  }
}

function readClientId(r: Reader): number {
  const id = r.varint();
  if (id === 0) throw new DecodeError('client id 0 names no session');
  return id;
}

function readSession(r: Reader): SessionTag | null {
  const clientId = r.varint();
  if (clientId === 0) return null;
  const seq = r.varint();
  const firstOutstanding = r.varint();
  if (seq < 1 || firstOutstanding < 1 || firstOutstanding > seq) {
    throw new DecodeError(`bad session tag: seq ${seq}, firstOutstanding ${firstOutstanding}`);
  }
  return { clientId, seq, firstOutstanding };
}

function readBody(r: Reader, kind: number): KvWrite {
  switch (kind) {
    case Kind.Put: {
      const key = readKey(r);
      const value = readValue(r);
      if (r.remaining === 0) return { op: 'put', key, value };
      const lease = r.varint();
      if (lease === 0) throw new DecodeError('put with an explicit lease 0 (omit it instead)');
      return { op: 'put', key, value, lease };
    }
    case Kind.Delete:
      return { op: 'delete', key: readKey(r) };
    case Kind.Cas: {
      const key = readKey(r);
      const expected = readOptionalValue(r);
      return { op: 'cas', key, expected, value: readValue(r) };
    }
    case Kind.Txn:
      return readTxn(r, readKey, readPrefix);
    case Kind.LeaseGrant: {
      const id = r.varint();
      const ttlMs = r.varint();
      if (ttlMs === 0) throw new DecodeError('lease grant with ttlMs 0');
      return { op: 'leaseGrant', id, ttlMs };
    }
    case Kind.LeaseRevoke: {
      const id = r.varint();
      const grantRevision = r.varint();
      const expired = r.u8();
      if (id === 0 || expired > 1) throw new DecodeError(`bad lease revoke (id ${id}, expired byte ${expired})`);
      return { op: 'leaseRevoke', id, grantRevision, expired: expired === 1 };
    }
    default:
      return { op: 'putMany', entries: readEntries(r) };
  }
}

function readEntries(r: Reader): { key: string; value: StoredValue }[] {
  const count = r.varint();
  if (count === 0) throw new DecodeError('putMany with no entries');
  // Each entry takes at least 4 bytes; a count beyond that is a lie, not a reason to allocate.
  if (count > r.remaining / 4) throw new DecodeError(`putMany count ${count} exceeds the data`);
  const entries: { key: string; value: StoredValue }[] = [];
  for (let i = 0; i < count; i++) entries.push({ key: readKey(r), value: readValue(r) });
  return entries;
}

/** A range prefix: like a key, but may be empty. */
function readPrefix(r: Reader): string {
  const at = r.offset;
  const bytes = r.bytes();
  if (bytes.length > MAX_KEY_BYTES) throw new DecodeError(`prefix of ${bytes.length} bytes at byte ${at}: over ${MAX_KEY_BYTES}`);
  return utf8Text(bytes);
}

/** A key: non-empty and at most MAX_KEY_BYTES of UTF-8. */
export function readKey(r: Reader): string {
  const at = r.offset;
  const bytes = r.bytes();
  if (bytes.length === 0 || bytes.length > MAX_KEY_BYTES) {
    throw new DecodeError(`key of ${bytes.length} bytes at byte ${at}: must be 1 to ${MAX_KEY_BYTES}`);
  }
  return utf8Text(bytes);
}
