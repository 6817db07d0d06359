import type { Model, NormalizedOperation } from '../types.js';
import { partitionKv } from './partition.js';
import { describeKvState, hashState, rangeOf, revisionAdvances, sameEntries, tracksMetadata, valueOf, write } from './record.js';
import { describeTxn, stepTxn, touchedBy } from './txn.js';
import type { KvModelInput, KvOutput, KvState } from './types.js';

type Step = readonly [ok: boolean, next: KvState];

const EMPTY: KvState = new Map();

/** A reported previous value, when present, must be the current one. */
const sawCurrent = (out: KvOutput | undefined, current: string | null): boolean =>
  out?.value === undefined || out.value === current;

type Write = Extract<KvModelInput, { op: 'put' | 'delete' }>;

function stepWrite(state: KvState, input: Write, out: KvOutput | undefined): Step {
  if (!sawCurrent(out, valueOf(state, input.key)) || !revisionAdvances(state, input.key, out?.revision)) {
    return [false, state];
  }
  return [true, write(state, input.key, input.op === 'put' ? input.value : null, out?.revision ?? null, tracksMetadata(input))];
}

function stepCas(state: KvState, input: Extract<KvModelInput, { op: 'cas' }>, out: KvOutput | undefined): Step {
  const current = valueOf(state, input.key);
  const swaps = current === input.expected;
  if (out !== undefined && (out.ok !== swaps || !sawCurrent(out, current))) return [false, state];
  if (!swaps) return [true, state];
  if (!revisionAdvances(state, input.key, out?.revision)) return [false, state];
  return [true, write(state, input.key, input.value, out?.revision ?? null, tracksMetadata(input))];
}

function step(state: KvState, input: KvModelInput, out: KvOutput | undefined): Step {
  switch (input.op) {
    case 'range':
      return [out === undefined || sameEntries(rangeOf(state, input.prefix), out.entries ?? {}), state];
    case 'get':
      return [out === undefined || out.value === valueOf(state, input.key), state];
    case 'put':
    case 'delete':
      return stepWrite(state, input, out);
    case 'cas':
      return stepCas(state, input, out);
    case 'txn':
      return stepTxn(state, input, out);
  }
}

const show = (v: string | null | undefined): string => (v === null ? 'absent' : v === undefined ? '?' : JSON.stringify(v));

function describeOutput(input: Exclude<KvModelInput, { op: 'txn' }>, out: KvOutput | undefined): string {
  if (out === undefined) return ' → ?';
  switch (input.op) {
    case 'get':
      return ` → ${show(out.value)}`;
    case 'cas':
      return out.ok ? ' → ok' : ` → failed${out.value === undefined ? '' : ` (was ${show(out.value)})`}`;
    case 'range':
      return ` → ${JSON.stringify(out.entries ?? {})}`;
    default:
      return out.value === undefined ? '' : ` (was ${show(out.value)})`;
  }
}

function describeOperation(input: KvModelInput, out: KvOutput | undefined): string {
  if (input.op === 'txn') return describeTxn(input, out);
  const key = input.op === 'range' ? '' : JSON.stringify(input.key);
  const call =
    input.op === 'put' ? `put(${key}, ${show(input.value)})`
    : input.op === 'cas' ? `cas(${key}, ${show(input.expected)} → ${show(input.value)})`
    : input.op === 'range' ? `range(${JSON.stringify(input.prefix)})`
    : `${input.op}(${key})`;
  return call + describeOutput(input, out);
}

/** The keys an operation names; a range names none (it covers keys others write). */
function keysOf(input: KvModelInput): string[] {
  if (input.op === 'txn') return touchedBy(input).keys;
  return input.op === 'range' ? [] : [input.key];
}

function describePartition(ops: readonly NormalizedOperation<KvModelInput, KvOutput>[]): string {
  const keys = [...new Set(ops.flatMap((op) => keysOf(op.input)))].sort();
  if (keys.length === 0) {
    const prefixes = ops.flatMap((op) =>
      op.input.op === 'range' ? [op.input.prefix] : op.input.op === 'txn' ? touchedBy(op.input).prefixes : [],
    );
    return `prefix ${[...new Set(prefixes.map((p) => JSON.stringify(p)))].join(', ')}`;
  }
  const shown = keys.slice(0, 3).map((k) => JSON.stringify(k)).join(', ');
  const more = keys.length > 3 ? ` and ${keys.length - 3} more` : '';
  return `${keys.length === 1 ? 'key' : 'keys'} ${shown}${more}`;
}

/**
 * The built-in key-value store model: put, get, delete, cas, range and txn over string
 * values, with each key's version and revisions. Partitions per key (keys joined by a range
 * or a txn are checked together).
 */
export const kvModel: Model<KvState, KvModelInput, KvOutput> = {
  init: () => EMPTY,
  step,
  partition: partitionKv,
  hash: hashState,
  describeOperation,
  describeState: describeKvState,
  describePartition,
};
