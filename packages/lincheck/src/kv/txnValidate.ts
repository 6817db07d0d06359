import { LincheckError, LincheckErrorCode } from '../errors.js';
import type { NormalizedOperation } from '../types.js';
import type { KvCompare, KvModelInput, KvOutput, KvTxnInput, KvTxnOp } from './types.js';

type KvOp = NormalizedOperation<KvModelInput, KvOutput>;

export function invalid(op: KvOp, why: string): never {
  throw new LincheckError(LincheckErrorCode.InvalidOperation, `operation #${op.id}: ${why}`);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const ORDER_OPS: ReadonlySet<unknown> = new Set(['==', '!=', '<', '>']);
const NUMERIC: ReadonlySet<unknown> = new Set(['version', 'createRevision', 'modRevision']);

function validCompare(c: KvCompare): boolean {
  if (typeof c !== 'object' || c === null || !isString(c.key)) return false;
  if (c.target === 'exists') return typeof c.exists === 'boolean';
  if (c.target === 'value') return (c.op === '==' || c.op === '!=') && isString(c.value);
  return NUMERIC.has(c.target) && ORDER_OPS.has(c.op) && isNumber(c.value);
}

function validTxnOp(o: KvTxnOp): boolean {
  if (typeof o !== 'object' || o === null) return false;
  switch (o.op) {
    case 'put':
      return isString(o.key) && isString(o.value);
    case 'delete':
    case 'get':
      return isString(o.key);
    case 'range':
      return isString(o.prefix);
    default:
      return false;
  }
}

export function validateTxnInput(op: KvOp, input: KvTxnInput): void {
  if (!Array.isArray(input.compare) || !input.compare.every(validCompare)) {
    invalid(op, 'txn compares need a string key and a target: exists (boolean), value (==, != a string), or version, createRevision, modRevision (==, !=, <, > a number)');
  }
  for (const branch of ['success', 'failure'] as const) {
    if (!Array.isArray(input[branch]) || !input[branch].every(validTxnOp)) {
      invalid(op, `txn ${branch} must be a list of put(key, value), delete(key), get(key), range(prefix)`);
    }
  }
  if (input.branch !== undefined && input.branch !== 'success' && input.branch !== 'failure') {
    invalid(op, 'txn branch must be success or failure');
  }
}

/** An `ok` txn's output: which branch ran and one well-formed result per op of that branch. */
export function validateTxnOutput(op: KvOp, input: KvTxnInput, out: KvOutput): void {
  if (typeof out.succeeded !== 'boolean') invalid(op, 'txn output needs succeeded: boolean');
  const ops = out.succeeded ? input.success : input.failure;
  if (!Array.isArray(out.results) || out.results.length !== ops.length) {
    invalid(op, `txn output needs one result per op of the ${out.succeeded ? 'success' : 'failure'} branch (${ops.length})`);
  }
  ops.forEach((o, i) => {
    const r = out.results![i];
    if (typeof r !== 'object' || r === null) invalid(op, `txn result ${i} must be an object`);
    if (o.op === 'get' && !(r.value === null || isString(r.value))) invalid(op, `txn result ${i} (get) needs a value (null if absent)`);
    if (o.op === 'range' && (typeof r.entries !== 'object' || r.entries === null)) invalid(op, `txn result ${i} (range) needs entries`);
    if (o.op === 'delete' && r.deleted !== undefined && typeof r.deleted !== 'boolean') invalid(op, `txn result ${i} (delete): deleted must be a boolean`);
    for (const f of ['version', 'createRevision', 'modRevision'] as const) {
      if (r[f] !== undefined && !isNumber(r[f])) invalid(op, `txn result ${i}: ${f} must be a number`);
    }
  });
}
