import { describe, expect, it } from 'vitest';
import { checkHistory, kvModel, normalizeHistory, type KvCompare, type KvModelInput, type KvOutput, type KvTxnOp, type KvTxnOpOutput, type OpStatus } from '../src/index.js';
import { bruteForceLinearizable } from './helpers/bruteForce.js';
import { rng, type KvOp } from './helpers/history.js';

const VALUES = ['1', '2'];
const KEYS = ['a', 'b', 'c'];
/** Mostly 'a', so versions grow past 1. */
const HOT = ['a', 'a', 'a', 'b', 'c'];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function randomCompare(r: () => number, acked: boolean): KvCompare {
  const key = pick(r, HOT);
  const kind = r();
  if (kind < 0.35) return { key, target: 'exists', exists: r() < 0.5 };
  if (kind < 0.7) return { key, target: 'value', op: pick(r, ['==', '!='] as const), value: pick(r, VALUES) };
  // A revision nobody reported cannot be decided for a timed-out txn: the brute force (no partition) would not split it.
  const target = acked && r() < 0.5 ? pick(r, ['createRevision', 'modRevision'] as const) : 'version';
  return { key, target, op: pick(r, ['==', '!=', '<', '>'] as const), value: Math.floor(r() * 3) };
}

function randomTxnOp(r: () => number): KvTxnOp {
  const key = pick(r, HOT);
  const kind = r();
  if (kind < 0.35) return { op: 'put', key, value: pick(r, VALUES) };
  if (kind < 0.5) return { op: 'delete', key };
  if (kind < 0.85) return { op: 'get', key };
  return { op: 'range', prefix: '' };
}

function randomInput(r: () => number, acked: boolean): KvModelInput {
  const key = pick(r, HOT);
  const kind = r();
  if (kind < 0.25) return { op: 'put', key, value: pick(r, VALUES) };
  if (kind < 0.4) return { op: 'get', key };
  if (kind < 0.5) return { op: 'delete', key };
  const compare = Array.from({ length: Math.floor(r() * 3) }, () => randomCompare(r, acked));
  const branch = (n: number) => Array.from({ length: n }, () => randomTxnOp(r));
  return { op: 'txn', compare, success: branch(1 + Math.floor(r() * 2)), failure: branch(Math.floor(r() * 2)) };
}

/** Outputs from a tiny domain, so both verdicts are common. */
function randomOutput(r: () => number, input: KvModelInput): KvOutput {
  const value = () => (r() < 0.3 ? null : pick(r, VALUES));
  const revision = r() < 0.3 ? { revision: 1 + Math.floor(r() * 4) } : {};
  if (input.op === 'get') return { value: value() };
  if (input.op !== 'txn') return revision;
  const succeeded = r() < 0.5;
  const results = (succeeded ? input.success : input.failure).map((op): KvTxnOpOutput => {
    if (op.op === 'get') return r() < 0.2 ? { value: value(), version: Math.floor(r() * 3) } : { value: value() };
    if (op.op === 'delete') return r() < 0.5 ? { deleted: r() < 0.5 } : {};
    if (op.op === 'range') return { entries: Object.fromEntries(KEYS.flatMap((k) => (r() < 0.6 ? [] : [[k, pick(r, VALUES)]]))) };
    return {};
  });
  return { succeeded, results, ...revision };
}

function randomHistory(seed: number): KvOp<KvModelInput>[] {
  const r = rng(seed);
  return Array.from({ length: 2 + Math.floor(r() * 5) }, (_, id) => {
    const call = Math.floor(r() * 8);
    const s = r();
    const status: OpStatus = s < 0.7 ? 'ok' : s < 0.9 ? 'unknown' : 'fail';
    const input = randomInput(r, status === 'ok');
    const ret = call + Math.floor(r() * 4);
    return status === 'unknown'
      ? { id, clientId: id, call, status, input }
      : { id, clientId: id, call, return: ret, status, input, output: randomOutput(r, input) };
  });
}

describe('transactions agree with brute force', () => {
  it('matches exhaustive enumeration (no partition, nothing dropped) on 3,000 random small histories', () => {
    let illegal = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const history = randomHistory(seed);
      const expected = bruteForceLinearizable(kvModel, normalizeHistory(history)) ? 'ok' : 'illegal';
      expect({ seed, result: checkHistory(kvModel, history).result }).toEqual({ seed, result: expected });
      if (expected === 'illegal') illegal++;
    }
    expect(illegal).toBeGreaterThan(500);
    expect(illegal).toBeLessThan(2500);
  }, 60_000);
});
