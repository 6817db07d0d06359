import { DecodeError, type Reader, type Writer } from './codec/binary.js';
import { readValue, writeValue, type StoredValue } from './values.js';

/** Most entries one range of a transaction returns (also its default): the same on every replica. */
export const MAX_TXN_RANGE_LIMIT = 1000;

/** A compare as the log carries it (values encoded). */
export type StoredCompare =
  | { readonly key: string; readonly target: 'value'; readonly op: '==' | '!='; readonly value: StoredValue }
  | { readonly key: string; readonly target: 'exists'; readonly exists: boolean }
  | {
      readonly key: string;
      readonly target: 'modRevision' | 'createRevision' | 'version';
      readonly op: '==' | '!=' | '<' | '>';
      readonly value: number;
    };

/** An op as the log carries it; `lease` 0 is none, `limit` in 1..MAX_TXN_RANGE_LIMIT. */
export type StoredTxnOp =
  | { readonly op: 'put'; readonly key: string; readonly value: StoredValue; readonly lease: number }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'range'; readonly prefix: string; readonly limit: number };

/** The write of a `txn` command. */
export interface TxnWrite {
  readonly op: 'txn';
  readonly compare: readonly StoredCompare[];
  readonly success: readonly StoredTxnOp[];
  readonly failure: readonly StoredTxnOp[];
}

const Target = { value: 1, exists: 2, modRevision: 3, createRevision: 4, version: 5 } as const;
const TARGETS = ['', 'value', 'exists', 'modRevision', 'createRevision', 'version'] as const;
const OPERATORS = ['==', '!=', '<', '>'] as const;
const OpKind = { put: 1, delete: 2, get: 3, range: 4 } as const;

/**
 * Layout of a txn body (after the session tag): `varint compareCount, compare *,
 * varint successCount, op *, varint failureCount, op *` where
 * - compare = `u8 target (1 value, 2 exists, 3 modRevision, 4 createRevision, 5 version), key`,
 *   then value: `u8 operator (0 '==', 1 '!='), value` · exists: `u8 0|1` ·
 *   revisions and version: `u8 operator (0 '==', 1 '!=', 2 '<', 3 '>'), varint number`;
 * - op = `u8 kind (1 put, 2 delete, 3 get, 4 range)`, then put `key, value, varint lease` ·
 *   delete, get `key` · range `prefix (length-prefixed UTF-8, may be empty), varint limit`.
 */
export function writeTxn(w: Writer, txn: TxnWrite): void {
  w.varint(txn.compare.length);
  for (const c of txn.compare) writeCompare(w, c);
  for (const branch of [txn.success, txn.failure]) {
    w.varint(branch.length);
    for (const op of branch) writeOp(w, op);
  }
}

function writeCompare(w: Writer, c: StoredCompare): void {
  w.u8(Target[c.target]).string(c.key);
  if (c.target === 'exists') w.u8(c.exists ? 1 : 0);
  else if (c.target === 'value') writeValue(w.u8(OPERATORS.indexOf(c.op)), c.value);
  else w.u8(OPERATORS.indexOf(c.op)).varint(c.value);
}

function writeOp(w: Writer, op: StoredTxnOp): void {
  w.u8(OpKind[op.op]);
  switch (op.op) {
    case 'put':
      writeValue(w.string(op.key), op.value);
      w.varint(op.lease);
      return;
    case 'delete':
    case 'get':
      w.string(op.key);
      return;
    case 'range':
      w.string(op.prefix).varint(op.limit);
      return;
  }
}

/** Rough encoded size, to size the writer once. */
export function estimateTxnSize(txn: TxnWrite): number {
  let n = 16;
  for (const c of txn.compare) n += 16 + c.key.length * 3 + (c.target === 'value' ? c.value.data.length : 0);
  for (const op of [...txn.success, ...txn.failure]) {
    n += 16 + (op.op === 'range' ? op.prefix.length : op.key.length) * 3 + (op.op === 'put' ? op.value.data.length : 0);
  }
  return n;
}

/** Reads a txn body. `readKey` checks keys as every command does. @throws DecodeError */
export function readTxn(r: Reader, readKey: (r: Reader) => string, readPrefix: (r: Reader) => string): TxnWrite {
  const compare = readList(r, 'compare', () => readCompare(r, readKey));
  const success = readList(r, 'success', () => readOp(r, readKey, readPrefix));
  const failure = readList(r, 'failure', () => readOp(r, readKey, readPrefix));
  return { op: 'txn', compare, success, failure };
}

function readList<T>(r: Reader, what: string, read: () => T): T[] {
  const count = r.varint();
  // Each item takes at least 3 bytes; a count beyond that is a lie, not a reason to allocate.
  if (count > r.remaining / 3) throw new DecodeError(`txn ${what} count ${count} exceeds the data`);
  const items: T[] = [];
  for (let i = 0; i < count; i++) items.push(read());
  return items;
}

function readCompare(r: Reader, readKey: (r: Reader) => string): StoredCompare {
  const t = r.u8();
  const target = TARGETS[t];
  if (target === undefined || target === '') throw new DecodeError(`unknown txn compare target ${t}`);
  const key = readKey(r);
  if (target === 'exists') return { key, target, exists: readFlag(r) };
  const o = r.u8();
  const op = OPERATORS[o];
  if (op === undefined || (target === 'value' && o > 1)) throw new DecodeError(`bad txn compare operator ${o} for ${target}`);
  if (target === 'value') return { key, target, op: op as '==' | '!=', value: readValue(r) };
  return { key, target, op, value: r.varint() };
}

function readOp(r: Reader, readKey: (r: Reader) => string, readPrefix: (r: Reader) => string): StoredTxnOp {
  const kind = r.u8();
  switch (kind) {
    case OpKind.put: {
      const key = readKey(r);
      const value = readValue(r);
      return { op: 'put', key, value, lease: r.varint() };
    }
    case OpKind.delete:
      return { op: 'delete', key: readKey(r) };
    case OpKind.get:
      return { op: 'get', key: readKey(r) };
    case OpKind.range: {
      const prefix = readPrefix(r);
      const limit = r.varint();
      if (limit < 1 || limit > MAX_TXN_RANGE_LIMIT) throw new DecodeError(`txn range limit ${limit} outside 1..${MAX_TXN_RANGE_LIMIT}`);
      return { op: 'range', prefix, limit };
    }
    default:
      throw new DecodeError(`unknown txn op kind ${kind}`);
  }
}

function readFlag(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) throw new DecodeError(`bad flag byte ${b}`);
  return b === 1;
}
