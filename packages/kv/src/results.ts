import { DecodeError, TruncatedError, type Reader, type Writer } from './codec/binary.js';
import { KvErrorCode } from './errors.js';
import { readOptionalValue, readValue, writeOptionalValue, writeValue, type StoredValue } from './values.js';

/** A key as a txn get/range returned it (values encoded). */
export interface StoredEntry {
  readonly key: string;
  readonly value: StoredValue;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly version: number;
}

/** One op's result inside a cached txn result. A get of an absent key has `record` null. */
export type StoredTxnOpResult =
  | { readonly op: 'put' }
  | { readonly op: 'delete'; readonly deleted: boolean }
  | { readonly op: 'get'; readonly record: Omit<StoredEntry, 'key'> | null }
  | { readonly op: 'range'; readonly entries: readonly StoredEntry[]; readonly more: boolean };

/** What a write returned when it ran; cached per (session, seq) and replayed to retries. */
export type KvWriteResult =
  | { readonly type: 'put'; readonly revision: number }
  | { readonly type: 'delete'; readonly revision: number; readonly deleted: boolean }
  /** `current` (what the key held instead of `expected`) is present only when `ok` is false. */
  | { readonly type: 'cas'; readonly revision: number; readonly ok: boolean; readonly current?: StoredValue | null }
  | { readonly type: 'putMany'; readonly revision: number; readonly count: number }
  | { readonly type: 'txn'; readonly revision: number; readonly succeeded: boolean; readonly results: readonly StoredTxnOpResult[] }
  | { readonly type: 'leaseGrant'; readonly revision: number; readonly id: number; readonly ttlMs: number }
  /** `revoked` false: no such lease (nothing changed); `deleted`: keys it deleted. */
  | { readonly type: 'leaseRevoke'; readonly revision: number; readonly revoked: boolean; readonly deleted: number }
  /** A write that ran and failed, changing nothing (e.g. KV_LEASE_NOT_FOUND), cached like any result. */
  | { readonly type: 'error'; readonly revision: number; readonly code: KvErrorCode; readonly message: string };

/**
 * What `KvStateMachine.apply` returns for an entry (the `R` of `RaftNode<R>`). `revision` is
 * the index of the entry that ran the command: for a replayed duplicate, the original's.
 * Errors are results, not exceptions: a throw from apply would stop the node.
 */
export type KvCommandResult =
  | KvWriteResult
  /** registerSession, keepAlive and closeSession. */
  | { readonly type: 'session'; readonly revision: number; readonly clientId: number };

const Tag = { put: 1, delete: 2, cas: 3, putMany: 4, txn: 5, leaseGrant: 6, leaseRevoke: 7, error: 8 } as const;
const CODES: ReadonlySet<string> = new Set(Object.values(KvErrorCode));
const OpTag = { put: 1, delete: 2, get: 3, range: 4 } as const;

/**
 * Layout: `u8 tag, varint revision`, then delete `u8 deleted` · cas `u8 ok` and, if not ok, an
 * optional value · putMany `varint count` · txn `u8 succeeded, varint count, op result *` ·
 * leaseGrant `varint id, varint ttlMs` · leaseRevoke `u8 revoked, varint deleted` · error
 * `string code, string message`,
 * where op result = `u8 op (1 put, 2 delete, 3 get, 4 range)`, then delete `u8 deleted` ·
 * get `u8 present` and if present `revisions, value` · range `varint count, (key,
 * revisions, value) *, u8 more`, and revisions = `varint modRevision, varint
 * createRevision, varint version`.
 */
export function writeResult(w: Writer, r: KvWriteResult): void {
  w.u8(Tag[r.type]).varint(r.revision);
  switch (r.type) {
    case 'delete':
      w.u8(r.deleted ? 1 : 0);
      return;
    case 'cas':
      w.u8(r.ok ? 1 : 0);
      if (!r.ok) writeOptionalValue(w, r.current ?? null);
      return;
    case 'putMany':
      w.varint(r.count);
      return;
    case 'txn':
      w.u8(r.succeeded ? 1 : 0).varint(r.results.length);
      for (const op of r.results) writeOpResult(w, op);
      return;
    case 'leaseGrant':
      w.varint(r.id).varint(r.ttlMs);
      return;
    case 'leaseRevoke':
      w.u8(r.revoked ? 1 : 0).varint(r.deleted);
      return;
    case 'error':
      w.string(r.code).string(r.message);
      return;
    case 'put':
      return;
  }
}

function writeOpResult(w: Writer, r: StoredTxnOpResult): void {
  w.u8(OpTag[r.op]);
  switch (r.op) {
    case 'delete':
      w.u8(r.deleted ? 1 : 0);
      return;
    case 'get':
      w.u8(r.record === null ? 0 : 1);
      if (r.record !== null) writeRecord(w, r.record);
      return;
    case 'range':
      w.varint(r.entries.length);
      for (const e of r.entries) writeRecord(w.string(e.key), e);
      w.u8(r.more ? 1 : 0);
      return;
    case 'put':
      return;
  }
}

function writeRecord(w: Writer, e: Omit<StoredEntry, 'key'>): void {
  writeValue(w.varint(e.modRevision).varint(e.createRevision).varint(e.version), e.value);
}

function readRecord(r: Reader): Omit<StoredEntry, 'key'> {
  const modRevision = r.varint();
  const createRevision = r.varint();
  const version = r.varint();
  return { modRevision, createRevision, version, value: readValue(r) };
}

function readOpResult(r: Reader): StoredTxnOpResult {
  const tag = r.u8();
  switch (tag) {
    case OpTag.put:
      return { op: 'put' };
    case OpTag.delete:
      return { op: 'delete', deleted: readFlag(r) };
    case OpTag.get:
      return { op: 'get', record: readFlag(r) ? readRecord(r) : null };
    case OpTag.range: {
      const entries = readCounted(r, () => {
        const key = r.string();
        return { key, ...readRecord(r) };
      });
      return { op: 'range', entries, more: readFlag(r) };
    }
    default:
      throw new DecodeError(`unknown txn op result tag ${tag}`);
  }
}

function readCounted<T>(r: Reader, read: () => T): T[] {
  const count = r.varint();
  // Every item takes at least one byte, so this many must follow before allocating. Truncated,
  // not corrupt: a streaming snapshot decoder reads a part again once more bytes came.
  if (count > r.remaining) throw new TruncatedError(`count ${count} exceeds the ${r.remaining} bytes held`, count - r.remaining);
  const items: T[] = [];
  for (let i = 0; i < count; i++) items.push(read());
  return items;
}

export function readResult(r: Reader): KvWriteResult {
  const tag = r.u8();
  const revision = r.varint();
  switch (tag) {
    case Tag.put:
      return { type: 'put', revision };
    case Tag.delete:
      return { type: 'delete', revision, deleted: readFlag(r) };
    case Tag.cas: {
      const ok = readFlag(r);
      return ok ? { type: 'cas', revision, ok } : { type: 'cas', revision, ok, current: readOptionalValue(r) };
    }
    case Tag.putMany:
      return { type: 'putMany', revision, count: r.varint() };
    case Tag.txn: {
      const succeeded = readFlag(r);
      return { type: 'txn', revision, succeeded, results: readCounted(r, () => readOpResult(r)) };
    }
    case Tag.leaseGrant: {
      const id = r.varint();
      return { type: 'leaseGrant', revision, id, ttlMs: r.varint() };
    }
    case Tag.leaseRevoke: {
      const revoked = readFlag(r);
      return { type: 'leaseRevoke', revision, revoked, deleted: r.varint() };
    }
    case Tag.error: {
      const code = r.string();
      const message = r.string();
      if (!CODES.has(code)) throw new DecodeError(`unknown error code ${JSON.stringify(code)} in a cached result`);
      return { type: 'error', revision, code: code as KvErrorCode, message };
    }
    default:
      throw new DecodeError(`unknown result tag ${tag}`);
  }
}

function readFlag(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) throw new DecodeError(`bad flag byte ${b}`);
  return b === 1;
}
