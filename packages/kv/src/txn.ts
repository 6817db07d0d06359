import type { KvChange } from './changes.js';
import type { KeyRecord, KeySpace } from './keySpace.js';
import type { KvWriteResult, StoredEntry, StoredTxnOpResult } from './results.js';
import type { StoredCompare, StoredTxnOp, TxnWrite } from './txnCodec.js';
import { sameValue } from './values.js';

/** What a transaction reads and writes: the key space, or a wrapper keeping leases in step. */
export type TxnKeys = Pick<KeySpace, 'get' | 'set' | 'delete' | 'range'>;

/**
 * Runs a transaction at `index`, atomically: every compare is evaluated against the state
 * before the entry, then the chosen branch's ops run in order, each seeing the writes of the
 * ones before it (a get after a put reads the put). Every write is at `index`. Deterministic;
 * never throws (the ops were validated when decoded). `changes`, when not null, receives the
 * key changes in op order. `admit`, if given, sees the chosen branch before any op runs; a
 * result from it (a failure) is returned instead, with nothing written.
 */
export function executeTxn(
  keys: TxnKeys,
  txn: TxnWrite,
  index: number,
  changes: KvChange[] | null,
  admit?: (ops: readonly StoredTxnOp[]) => KvWriteResult | undefined,
): KvWriteResult {
  const succeeded = txn.compare.every((c) => holds(c, keys.get(c.key)));
  const ops = succeeded ? txn.success : txn.failure;
  const refused = admit?.(ops);
  if (refused !== undefined) return refused;
  const results = ops.map((op) => runOp(keys, op, index, changes));
  return { type: 'txn', revision: index, succeeded, results };
}

function holds(c: StoredCompare, rec: KeyRecord | undefined): boolean {
  switch (c.target) {
    case 'exists':
      return (rec !== undefined) === c.exists;
    case 'value': {
      // An absent key equals no value.
      const equal = rec !== undefined && sameValue(rec.value, c.value);
      return c.op === '==' ? equal : !equal;
    }
    default: {
      const actual = rec === undefined ? 0 : rec[c.target];
      switch (c.op) {
        case '==':
          return actual === c.value;
        case '!=':
          return actual !== c.value;
        case '<':
          return actual < c.value;
        case '>':
          return actual > c.value;
      }
    }
  }
}

function runOp(keys: TxnKeys, op: StoredTxnOp, index: number, changes: KvChange[] | null): StoredTxnOpResult {
  switch (op.op) {
    case 'put': {
      const prev = changes === null ? undefined : keys.get(op.key);
      const record = keys.set(op.key, op.value, index, op.lease);
      changes?.push(prev === undefined ? { type: 'put', key: op.key, record } : { type: 'put', key: op.key, record, prev });
      return { op: 'put' };
    }
    case 'delete': {
      const prev = keys.delete(op.key);
      if (prev !== undefined) changes?.push({ type: 'delete', key: op.key, prev });
      return { op: 'delete', deleted: prev !== undefined };
    }
    case 'get': {
      const rec = keys.get(op.key);
      return { op: 'get', record: rec === undefined ? null : revisionsOf(rec) };
    }
    case 'range': {
      const { entries, more } = keys.range(op.prefix, op.limit);
      return { op: 'range', entries: entries.map(([key, rec]): StoredEntry => ({ key, ...revisionsOf(rec) })), more };
    }
  }
}

/** What a result caches of a record (never the lease: results report what the design names). */
const revisionsOf = (rec: KeyRecord): Omit<StoredEntry, 'key'> => ({
  value: rec.value,
  modRevision: rec.modRevision,
  createRevision: rec.createRevision,
  version: rec.version,
});
