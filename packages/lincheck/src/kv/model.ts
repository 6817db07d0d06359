import type { Model, NormalizedOperation } from '../types.js';
import { partitionKv } from './partition.js';
import type { KvInput, KvOutput, KvState } from './types.js';

type Step = readonly [ok: boolean, next: KvState];

const EMPTY: KvState = new Map();

function withValue(state: KvState, key: string, value: string | null): KvState {
  const next = new Map(state);
  if (value === null) next.delete(key);
  else next.set(key, value);
  return next;
}

/** A reported previous value, when present, must be the current one. */
const sawCurrent = (out: KvOutput | undefined, current: string | null): boolean =>
  out?.value === undefined || out.value === current;

function stepCas(state: KvState, input: Extract<KvInput, { op: 'cas' }>, out: KvOutput | undefined): Step {
  const current = state.get(input.key) ?? null;
  const swaps = current === input.expected;
  if (out === undefined) return [true, swaps ? withValue(state, input.key, input.value) : state];
  if (out.ok !== swaps || !sawCurrent(out, current)) return [false, state];
  return [true, swaps ? withValue(state, input.key, input.value) : state];
}

function rangeOf(state: KvState, prefix: string): Map<string, string> {
  return new Map([...state].filter(([k]) => k.startsWith(prefix)));
}

function sameEntries(actual: ReadonlyMap<string, string>, seen: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(seen);
  return keys.length === actual.size && keys.every((k) => actual.get(k) === seen[k]);
}

function step(state: KvState, input: KvInput, out: KvOutput | undefined): Step {
  if (input.op === 'range') {
    return [out === undefined || sameEntries(rangeOf(state, input.prefix), out.entries ?? {}), state];
  }
  const current = state.get(input.key) ?? null;
  switch (input.op) {
    case 'get':
      return [out === undefined || out.value === current, state];
    case 'put':
      return [sawCurrent(out, current), withValue(state, input.key, input.value)];
    case 'delete':
      return [sawCurrent(out, current), withValue(state, input.key, null)];
    case 'cas':
      return stepCas(state, input, out);
  }
}

function sortedEntries(state: KvState): [string, string][] {
  const entries = [...state];
  return entries.length < 2 ? entries : entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Canonical: equal states, and only those, have equal keys. */
function hash(state: KvState): string {
  if (state.size !== 1) return JSON.stringify(sortedEntries(state));
  for (const entry of state) return JSON.stringify(entry);
  return '';
}

const show = (v: string | null | undefined): string => (v === null ? 'absent' : v === undefined ? '?' : JSON.stringify(v));

function describeOutput(input: KvInput, out: KvOutput | undefined): string {
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

function describeOperation(input: KvInput, out: KvOutput | undefined): string {
  const key = input.op === 'range' ? '' : JSON.stringify(input.key);
  const call =
    input.op === 'put' ? `put(${key}, ${show(input.value)})`
    : input.op === 'cas' ? `cas(${key}, ${show(input.expected)} → ${show(input.value)})`
    : input.op === 'range' ? `range(${JSON.stringify(input.prefix)})`
    : `${input.op}(${key})`;
  return call + describeOutput(input, out);
}

function describePartition(ops: readonly NormalizedOperation<KvInput, KvOutput>[]): string {
  const keys = [...new Set(ops.map((op) => (op.input.op === 'range' ? null : op.input.key)))]
    .filter((k): k is string => k !== null)
    .sort();
  if (keys.length === 0) {
    const prefixes = ops.map((op) => (op.input.op === 'range' ? JSON.stringify(op.input.prefix) : ''));
    return `prefix ${[...new Set(prefixes)].join(', ')}`;
  }
  const shown = keys.slice(0, 3).map((k) => JSON.stringify(k)).join(', ');
  const more = keys.length > 3 ? ` and ${keys.length - 3} more` : '';
  return `${keys.length === 1 ? 'key' : 'keys'} ${shown}${more}`;
}

/**
 * The built-in key-value store model: put, get, delete, cas and range over string values.
 * Partitions per key (keys joined by a range are checked together).
 */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => EMPTY,
  step,
  partition: partitionKv,
  hash,
  describeOperation,
  describeState: (state) => JSON.stringify(Object.fromEntries(sortedEntries(state))),
  describePartition,
};
