import { describe, expect, it } from 'vitest';
import { checkHistory, kv, kvModel } from '../src/index.js';
import { failed, ok, unknown } from './helpers/history.js';

describe('indeterminate and failed operations', () => {
  it('accepts an unknown put whose value shows up later', () => {
    const history = [unknown(0, 'a', 0, kv.put('x', '1')), ok(1, 'b', 50, 51, kv.get('x'), { value: '1' })];
    expect(checkHistory(kvModel, history).result).toBe('ok');
  });

  it('accepts an unknown put that never shows up', () => {
    const history = [
      unknown(0, 'a', 0, kv.put('x', '1')),
      ok(1, 'b', 50, 51, kv.get('x'), { value: null }),
      ok(2, 'b', 52, 53, kv.get('x'), { value: null }),
    ];
    expect(checkHistory(kvModel, history).result).toBe('ok');
  });

  it('lets an unknown put take effect long after its call, but not before it', () => {
    const late = [
      unknown(0, 'a', 0, kv.put('x', '1')),
      ok(1, 'b', 10, 11, kv.put('x', '2')),
      ok(2, 'b', 20, 21, kv.get('x'), { value: '1' }),
    ];
    const early = [ok(0, 'b', 0, 1, kv.get('x'), { value: '1' }), unknown(1, 'a', 5, kv.put('x', '1'))];
    expect(checkHistory(kvModel, late).result).toBe('ok');
    expect(checkHistory(kvModel, early).result).toBe('illegal');
  });

  it('applies an unknown operation at most once', () => {
    const history = [
      unknown(0, 'a', 0, kv.put('x', '1')),
      ok(1, 'b', 1, 2, kv.get('x'), { value: '1' }),
      ok(2, 'b', 3, 4, kv.put('x', '2')),
      ok(3, 'b', 5, 6, kv.get('x'), { value: '1' }),
    ];
    expect(checkHistory(kvModel, history).result).toBe('illegal');
  });

  it('rejects a value from a failed operation showing up', () => {
    const history = [failed(0, 'a', 0, 1, kv.put('x', '1')), ok(1, 'b', 2, 3, kv.get('x'), { value: '1' })];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.stats.operations).toBe(1);
  });

  it('treats an operation without a return time as unknown and ignores its output', () => {
    const history = [
      { clientId: 'a', call: 0, input: kv.get('x'), output: { value: 'bogus' } },
      { clientId: 'a', call: 1, input: kv.cas('x', null, '1') },
      { clientId: 'b', call: 5, return: 6, input: kv.get('x'), output: { value: '1' } },
    ];
    expect(checkHistory(kvModel, history).result).toBe('ok');
  });

  it('lets an unknown cas chain explain a later read only if its expected value was current', () => {
    const chain = [
      unknown(0, 'a', 0, kv.cas('x', null, '1')),
      unknown(1, 'b', 0, kv.cas('x', '1', '2')),
      ok(2, 'c', 10, 11, kv.get('x'), { value: '2' }),
    ];
    const broken = [unknown(1, 'b', 0, kv.cas('x', '1', '2')), ok(2, 'c', 10, 11, kv.get('x'), { value: '2' })];
    expect(checkHistory(kvModel, chain).result).toBe('ok');
    expect(checkHistory(kvModel, broken).result).toBe('illegal');
  });

  it('still detects a stale read among many timed-out writes', () => {
    const noise = Array.from({ length: 30 }, (_, i) => unknown(100 + i, `t${i}`, i, kv.put('x', `t${i}`)));
    const history = [
      ...noise,
      ok(0, 'a', 40, 41, kv.put('x', '1')),
      ok(1, 'a', 42, 43, kv.put('x', '2')),
      ok(2, 'b', 44, 45, kv.get('x'), { value: '1' }),
    ];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.stuck.id).toBe(2);
  });
});
