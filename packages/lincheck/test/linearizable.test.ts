import { describe, expect, it } from 'vitest';
import { checkHistory, formatResult, kv, kvModel } from '../src/index.js';
import { ok } from './helpers/history.js';

describe('linearizable KV histories', () => {
  it('accepts a sequential history', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', '1')),
      ok(1, 'a', 2, 3, kv.get('x'), { value: '1' }),
      ok(2, 'b', 4, 5, kv.delete('x')),
      ok(3, 'b', 6, 7, kv.get('x'), { value: null }),
    ];
    const result = checkHistory(kvModel, history);
    expect(result.result, formatResult(result)).toBe('ok');
    expect(result.violation).toBeUndefined();
  });

  it('lets a read overlapping two concurrent puts see either value', () => {
    const puts = [ok(0, 'a', 0, 10, kv.put('x', '1')), ok(1, 'b', 0, 10, kv.put('x', '2'))];
    for (const seen of ['1', '2']) {
      const read = ok(2, 'c', 5, 15, kv.get('x'), { value: seen });
      expect(checkHistory(kvModel, [...puts, read]).result).toBe('ok');
    }
  });

  it('lets two readers disagree while a put is in flight, but only in one order', () => {
    // c sees the new value and returns before d starts: d must see it too.
    const base = [ok(0, 'a', 0, 1, kv.put('x', '1')), ok(1, 'b', 2, 20, kv.put('x', '2'))];
    const legal = [...base, ok(2, 'c', 3, 4, kv.get('x'), { value: '1' }), ok(3, 'd', 5, 6, kv.get('x'), { value: '2' })];
    const illegal = [...base, ok(2, 'c', 3, 4, kv.get('x'), { value: '2' }), ok(3, 'd', 5, 6, kv.get('x'), { value: '1' })];
    expect(checkHistory(kvModel, legal).result).toBe('ok');
    expect(checkHistory(kvModel, illegal).result).toBe('illegal');
  });

  it('accepts a chain of cas operations, including failed ones reporting the current value', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.cas('x', null, '1'), { ok: true }),
      ok(1, 'b', 2, 6, kv.cas('x', '1', '2'), { ok: true }),
      ok(2, 'c', 3, 7, kv.cas('x', '1', '3'), { ok: false, value: '2' }),
      ok(3, 'a', 8, 9, kv.cas('x', '2', '4'), { ok: true }),
      ok(4, 'b', 10, 11, kv.get('x'), { value: '4' }),
    ];
    expect(checkHistory(kvModel, history).result).toBe('ok');
  });

  it('treats operations that touch in time (return == call) as concurrent', () => {
    const history = [ok(0, 'a', 0, 5, kv.put('x', '1')), ok(1, 'b', 5, 6, kv.get('x'), { value: null })];
    expect(checkHistory(kvModel, history).result).toBe('ok');
  });

  it('checks reported previous values of put and delete', () => {
    const good = [ok(0, 'a', 0, 1, kv.put('x', '1'), { value: null }), ok(1, 'a', 2, 3, kv.delete('x'), { value: '1' })];
    const bad = [ok(0, 'a', 0, 1, kv.put('x', '1'), { value: null }), ok(1, 'a', 2, 3, kv.delete('x'), { value: '0' })];
    expect(checkHistory(kvModel, good).result).toBe('ok');
    expect(checkHistory(kvModel, bad).result).toBe('illegal');
  });

  it('accepts an empty history', () => {
    const result = checkHistory(kvModel, []);
    expect(result).toMatchObject({ result: 'ok', stats: { operations: 0, partitions: 0 } });
  });
});
