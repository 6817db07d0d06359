import { describe, expect, it } from 'vitest';
import { checkHistory, kv, kvModel, type Witness, type KvInput, type KvOutput } from '../src/index.js';
import { ok, unknown, type KvOp } from './helpers/history.js';

const ids = (w: Witness<KvInput, KvOutput> | undefined) => ({
  essential: w?.essential.map((op) => op.id),
  context: w?.context.map((op) => op.id),
});

/** Three clients taking turns on `x` from time `t`, linearizably: put then read back. */
function noise(firstId: number, t: number, rounds: number): KvOp[] {
  const ops: KvOp[] = [];
  for (let r = 0; r < rounds; r++) {
    const id = firstId + 2 * r;
    ops.push(ok(id, `n${r % 3}`, t + 4 * r, t + 4 * r + 1, kv.put('x', `n${id}`)));
    ops.push(ok(id + 1, `n${r % 3}`, t + 4 * r + 2, t + 4 * r + 3, kv.get('x'), { value: `n${id}` }));
  }
  return ops;
}

describe('shrinking to a minimal witness', () => {
  it('keeps the overwriting put and the stale read, with the older put as context', () => {
    const history = [
      ...noise(100, 0, 20),
      ok(1, 'a', 100, 101, kv.put('x', '1')),
      ok(2, 'a', 102, 103, kv.put('x', '2')),
      ok(3, 'b', 104, 105, kv.get('x'), { value: '1' }),
      ...noise(200, 110, 20),
    ];
    const witness = checkHistory(kvModel, history).violation?.witness;
    expect(ids(witness)).toEqual({ essential: [2, 3], context: [1] });
    expect(witness?.minimal).toBe(true);
  });

  it('keeps both cas operations of a double success, with the put they both saw as context', () => {
    const history = [
      ...noise(100, 0, 10),
      ok(1, 'a', 50, 51, kv.put('x', 'a')),
      ok(2, 'b', 52, 56, kv.cas('x', 'a', 'b'), { ok: true }),
      ok(3, 'c', 53, 57, kv.cas('x', 'a', 'c'), { ok: true }),
      ok(4, 'c', 58, 59, kv.get('x'), { value: 'c' }),
    ];
    const witness = checkHistory(kvModel, history).violation?.witness;
    expect(ids(witness)).toEqual({ essential: [2, 3], context: [1] });
  });

  it('keeps a timed-out write that the witness needs as context', () => {
    const history = [
      unknown(1, 'a', 0, kv.put('x', '1')),
      ok(2, 'b', 10, 11, kv.get('x'), { value: '1' }),
      ok(3, 'b', 12, 13, kv.put('x', '2')),
      ok(4, 'c', 14, 15, kv.get('x'), { value: '1' }),
      ...noise(100, 20, 5),
    ];
    const witness = checkHistory(kvModel, history).violation?.witness;
    expect(witness?.essential.map((op) => op.id)).toEqual(expect.arrayContaining([3, 4]));
    expect(witness?.context.map((op) => op.id)).toContain(1);
  });

  it('can be turned off', () => {
    const history = [ok(1, 'a', 0, 1, kv.get('x'), { value: '1' })];
    const result = checkHistory(kvModel, history, { shrink: false });
    expect(result.result).toBe('illegal');
    expect(result.violation?.witness).toBeUndefined();
  });

  it('stops within its budget and says the witness may not be minimal', () => {
    const history = [
      ...noise(100, 0, 50),
      ok(1, 'a', 200, 201, kv.put('x', '1')),
      ok(2, 'a', 202, 203, kv.put('x', '2')),
      ok(3, 'b', 204, 205, kv.get('x'), { value: '1' }),
    ];
    const witness = checkHistory(kvModel, history, { shrink: { maxSteps: 40 } }).violation?.witness;
    expect(witness === undefined || witness.minimal === false).toBe(true);
    expect(witness?.steps ?? 0).toBeLessThanOrEqual(41);
  });
});
