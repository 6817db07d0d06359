import { describe, expect, it } from 'vitest';
import { checkHistory, kvModel, normalizeHistory, type KvInput, type KvOutput, type OpStatus } from '../src/index.js';
import { StepMeter } from '../src/meter.js';
import { searchLinearization } from '../src/search.js';
import type { NormalizedOperation, Witness } from '../src/index.js';
import { bruteForceLinearizable } from './helpers/bruteForce.js';
import { rng, type KvOp } from './helpers/history.js';

const VALUES = ['1', '2', '3'];

function randomInput(r: () => number): KvInput {
  const key = r() < 0.7 ? 'a' : 'b';
  const value = VALUES[Math.floor(r() * VALUES.length)];
  const pick = r();
  if (pick < 0.3) return { op: 'put', key, value };
  if (pick < 0.6) return { op: 'get', key };
  if (pick < 0.75) return { op: 'cas', key, expected: r() < 0.3 ? null : VALUES[Math.floor(r() * 3)], value };
  if (pick < 0.9) return { op: 'delete', key };
  return { op: 'range', prefix: '' };
}

/** Outputs drawn at random from a tiny domain, so about half the histories are illegal. */
function randomOutput(r: () => number, input: KvInput): KvOutput {
  const value = () => (r() < 0.25 ? null : VALUES[Math.floor(r() * VALUES.length)]);
  if (input.op === 'get') return { value: value() };
  if (input.op === 'cas') return r() < 0.5 ? { ok: true } : r() < 0.7 ? { ok: false, value: value() } : { ok: false };
  if (input.op === 'range') return { entries: Object.fromEntries(['a', 'b'].flatMap((k) => (r() < 0.5 ? [] : [[k, VALUES[Math.floor(r() * 3)]]]))) };
  return r() < 0.2 ? { value: value() } : {};
}

function randomHistory(seed: number): KvOp[] {
  const r = rng(seed);
  const n = 2 + Math.floor(r() * 6);
  return Array.from({ length: n }, (_, id) => {
    const call = Math.floor(r() * 8);
    const input = randomInput(r);
    const s = r();
    const status: OpStatus = s < 0.7 ? 'ok' : s < 0.9 ? 'unknown' : 'fail';
    const ret = call + Math.floor(r() * 4);
    return status === 'unknown'
      ? { id, clientId: id, call, status, input }
      : { id, clientId: id, call, return: ret, status, input, output: randomOutput(r, input) };
  });
}

type Op = NormalizedOperation<KvInput, KvOutput>;

/** Searches essential ops as required and `weakened` ones as optional within their window. */
function verdictOf(required: readonly Op[], weakened: readonly Op[]): string {
  const ops = [
    ...required.map((op) => ({ ...op, required: true })),
    ...weakened.map((op) => ({ ...op, output: undefined, required: false })),
  ].sort((a, b) => a.call - b.call || a.id - b.id);
  return searchLinearization(kvModel, ops, new StepMeter()).kind;
}

/** The properties `Witness` promises. */
function checkWitness(w: Witness<KvInput, KvOutput>): void {
  expect(verdictOf(w.essential, w.context)).toBe('illegal');
  for (const e of w.essential) {
    expect(verdictOf(w.essential.filter((x) => x !== e), [...w.context, e])).toBe('ok');
  }
}

describe('agreement with brute force', () => {
  it('matches exhaustive enumeration on 5,000 random small histories', () => {
    let illegal = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const history = randomHistory(seed);
      const expected = bruteForceLinearizable(kvModel, normalizeHistory(history)) ? 'ok' : 'illegal';
      const actual = checkHistory(kvModel, history).result;
      expect({ seed, result: actual }).toEqual({ seed, result: expected });
      // The same without partitioning or dropping anything.
      expect({ seed, whole: checkHistory({ ...kvModel, partition: undefined }, history).result }).toEqual({ seed, whole: expected });
      if (expected === 'illegal') illegal++;
    }
    // Both outcomes are well represented, so the comparison means something.
    expect(illegal).toBeGreaterThan(1000);
    expect(illegal).toBeLessThan(4000);
  }, 60_000);

  it('shrinks every illegal one to a witness with the promised properties', () => {
    let checked = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const witness = checkHistory(kvModel, randomHistory(seed)).violation?.witness;
      if (!witness) continue;
      expect(witness.minimal).toBe(true);
      checkWitness(witness);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  }, 60_000);
});
