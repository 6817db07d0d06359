import { invalidArgument } from './errors.js';
import type { StoredTxnOpResult } from './results.js';
import { MAX_TXN_RANGE_LIMIT, type StoredCompare, type StoredTxnOp, type TxnWrite } from './txnCodec.js';
import type { TxnOpResult, TxnRequest, TxnResult } from './types.js';
import { checkCount, checkKey, checkPrefix, typeOf } from './validate.js';
import { fromStoredValue, toStoredValue } from './values.js';

export interface TxnLimits {
  readonly maxValueBytes: number;
  /** Most compares + ops (both branches) in one transaction. */
  readonly maxBatchEntries: number;
}

const VALUE_OPERATORS: ReadonlySet<unknown> = new Set(['==', '!=']);
const NUMBER_OPERATORS: ReadonlySet<unknown> = new Set(['==', '!=', '<', '>']);
const NUMBER_TARGETS: ReadonlySet<unknown> = new Set(['modRevision', 'createRevision', 'version']);

/**
 * Validates a caller's transaction and encodes its values.
 * @throws KvError KV_INVALID_ARGUMENT (bad compare or op, a key written twice in one branch,
 *   more than `maxBatchEntries` compares + ops) before anything reaches the log.
 */
export function buildTxn(request: TxnRequest, limits: TxnLimits): TxnWrite {
  const compare = list(request.compare, 'compare');
  const success = list(request.success, 'success');
  const failure = list(request.failure, 'failure');
  const total = compare.length + success.length + failure.length;
  if (total > limits.maxBatchEntries) {
    throw invalidArgument(`txn has ${total} compares and ops, over the limit of ${limits.maxBatchEntries}`);
  }
  return {
    op: 'txn',
    compare: compare.map((c, i) => buildCompare(c, `compare[${i}]`, limits)),
    success: buildBranch(success, 'success', limits),
    failure: buildBranch(failure, 'failure', limits),
  };
}

function list(v: unknown, what: string): readonly unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidArgument(`txn ${what} must be an array, got ${typeOf(v)}`);
  return v;
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgument(`txn ${what} must be an object, got ${typeOf(v)}`);
  return v as Record<string, unknown>;
}

function buildCompare(v: unknown, what: string, limits: TxnLimits): StoredCompare {
  const c = object(v, what);
  const key = checkKey(c.key, `txn ${what} key`);
  if (c.target === 'exists') {
    if (typeof c.exists !== 'boolean') throw invalidArgument(`txn ${what}: exists must be a boolean, got ${typeOf(c.exists)}`);
    return { key, target: 'exists', exists: c.exists };
  }
  if (c.target === 'value') {
    if (!VALUE_OPERATORS.has(c.op)) throw invalidArgument(`txn ${what}: a value compare takes '==' or '!=', got ${JSON.stringify(c.op) ?? typeOf(c.op)}`);
    return { key, target: 'value', op: c.op as '==' | '!=', value: toStoredValue(c.value, limits.maxValueBytes, `txn ${what} value`) };
  }
  if (NUMBER_TARGETS.has(c.target)) {
    if (!NUMBER_OPERATORS.has(c.op)) throw invalidArgument(`txn ${what}: operator must be '==', '!=', '<' or '>', got ${JSON.stringify(c.op) ?? typeOf(c.op)}`);
    const n = c.value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalidArgument(`txn ${what}: value must be a whole number >= 0, got ${String(n)}`);
    return { key, target: c.target as 'modRevision', op: c.op as '==', value: n };
  }
  throw invalidArgument(`txn ${what}: unknown target ${JSON.stringify(c.target) ?? typeOf(c.target)} (value, exists, modRevision, createRevision, version)`);
}

function buildBranch(ops: readonly unknown[], branch: string, limits: TxnLimits): StoredTxnOp[] {
  const written = new Set<string>();
  return ops.map((v, i) => {
    const op = buildOp(v, `${branch}[${i}]`, limits);
    if (op.op === 'put' || op.op === 'delete') {
      // A key written twice would make the branch's meaning depend on op order subtleties; etcd refuses it too.
      if (written.has(op.key)) throw invalidArgument(`txn ${branch} writes key ${JSON.stringify(op.key)} more than once`);
      written.add(op.key);
    }
    return op;
  });
}

function buildOp(v: unknown, what: string, limits: TxnLimits): StoredTxnOp {
  const o = object(v, what);
  switch (o.op) {
    case 'put': {
      const key = checkKey(o.key, `txn ${what} key`);
      const value = toStoredValue(o.value, limits.maxValueBytes, `txn ${what} value`);
      return { op: 'put', key, value, lease: checkLease(o.lease, `txn ${what} lease`) };
    }
    case 'delete':
    case 'get':
      return { op: o.op, key: checkKey(o.key, `txn ${what} key`) };
    case 'range':
      return { op: 'range', prefix: checkPrefix(o.prefix), limit: checkCount(o.limit, `txn ${what} limit`, MAX_TXN_RANGE_LIMIT, MAX_TXN_RANGE_LIMIT) };
    default:
      throw invalidArgument(`txn ${what}: unknown op ${JSON.stringify(o.op) ?? typeOf(o.op)} (put, delete, get, range)`);
  }
}

/** A lease id: a whole number >= 0, 0 or omitted for none. */
export function checkLease(v: unknown, what: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalidArgument(`${what} must be a whole number >= 0, got ${String(v)}`);
  return v;
}

/** The caller-facing form of a cached txn result: values decoded afresh. */
export function toTxnResult(revision: number, succeeded: boolean, results: readonly StoredTxnOpResult[]): TxnResult {
  return { revision, succeeded, results: results.map(toOpResult) };
}

function toOpResult(r: StoredTxnOpResult): TxnOpResult {
  switch (r.op) {
    case 'put':
      return { op: 'put' };
    case 'delete':
      return { op: 'delete', deleted: r.deleted };
    case 'get':
      if (r.record === null) return { op: 'get', value: null, modRevision: null, createRevision: null, version: 0 };
      return { op: 'get', value: fromStoredValue(r.record.value), modRevision: r.record.modRevision, createRevision: r.record.createRevision, version: r.record.version };
    case 'range':
      return {
        op: 'range',
        more: r.more,
        entries: r.entries.map((e) => ({ key: e.key, value: fromStoredValue(e.value), modRevision: e.modRevision, createRevision: e.createRevision, version: e.version })),
      };
  }
}
