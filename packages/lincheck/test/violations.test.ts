import { describe, expect, it } from 'vitest';
import { checkHistory, formatResult, kv, kvModel } from '../src/index.js';
import { ok } from './helpers/history.js';

const ids = (ops: readonly { id: number }[] | undefined) => ops?.map((op) => op.id);

describe('non-linearizable KV histories', () => {
  it('rejects a stale read after a completed write', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', '1')),
      ok(1, 'a', 2, 3, kv.put('x', '2')),
      ok(2, 'b', 4, 5, kv.get('x'), { value: '1' }),
    ];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.stuck.id).toBe(2);
    expect(ids(result.violation?.longestPrefix)).toEqual([0, 1]);
    expect(result.violation?.stateAfterPrefix).toBe('{"x":"2"}');
  });

  it('rejects a read of a value never written', () => {
    const history = [ok(0, 'a', 0, 1, kv.put('x', '1')), ok(1, 'b', 0, 2, kv.get('x'), { value: '7' })];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.stuck.id).toBe(1);
    expect(ids(result.violation?.witness?.essential)).toEqual([1]);
    expect(result.violation?.witness?.context).toEqual([]);
  });

  it('rejects two cas operations that both succeed from the same expected value', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', 'a')),
      ok(1, 'b', 2, 5, kv.cas('x', 'a', 'b'), { ok: true }),
      ok(2, 'c', 2, 5, kv.cas('x', 'a', 'c'), { ok: true }),
    ];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.longestPrefix).toHaveLength(2);
    expect([1, 2]).toContain(result.violation?.stuck.id);
  });

  it('rejects a lost write: a put acknowledged, then a later read sees the older value', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', 'old')),
      ok(1, 'b', 2, 3, kv.put('x', 'new')),
      ok(2, 'c', 10, 11, kv.get('x'), { value: 'old' }),
      ok(3, 'c', 12, 13, kv.get('x'), { value: 'old' }),
    ];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.stuck.id).toBe(2);
  });

  it('rejects a failed cas that reports a value the key cannot hold', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', '1')),
      ok(1, 'a', 2, 3, kv.cas('x', '0', '2'), { ok: false, value: '5' }),
    ];
    expect(checkHistory(kvModel, history).result).toBe('illegal');
  });

  it('rejects a read of a deleted key that still returns the value', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', '1')),
      ok(1, 'a', 2, 3, kv.delete('x')),
      ok(2, 'b', 4, 5, kv.get('x'), { value: '1' }),
    ];
    expect(checkHistory(kvModel, history).result).toBe('illegal');
  });

  it('describes every operation of the violating part for reports', () => {
    const history = [ok(0, 'a', 0, 1, kv.put('x', '1')), ok(1, 'b', 2, 3, kv.get('x'), { value: null })];
    const result = checkHistory(kvModel, history);
    expect(result.violation?.descriptions).toEqual({ 0: 'put("x", "1")', 1: 'get("x") → absent' });
    expect(result.violation?.partition).toBe('key "x"');
    expect(formatResult(result)).toContain('#1  client b  [2, 3]  get("x") → absent');
  });
});
