import { describe, expect, it } from 'vitest';
import { checkHistory, formatResult, kv, kvModel } from '../src/index.js';
import { ok } from './helpers/history.js';
import { simulateAtomicStore } from './helpers/simulate.js';

describe('search budget', () => {
  const history = simulateAtomicStore({ seed: 4, clients: 5, opsPerClient: 200, keys: ['x'] });

  it('returns unknown when the step budget runs out', () => {
    const result = checkHistory(kvModel, history, { maxSteps: 100 });
    expect(result.result).toBe('unknown');
    expect(result.violation).toBeUndefined();
    expect(result.stats.steps).toBe(101);
    expect(result.partitions[0].result).toBe('unknown');
    expect(formatResult(result)).toContain('unchecked: key "x"');
  });

  it('is deterministic in steps: the same history needs the same steps', () => {
    const a = checkHistory(kvModel, history);
    const b = checkHistory(kvModel, history);
    expect(a.result).toBe('ok');
    expect(a.stats.steps).toBe(b.stats.steps);
    expect(checkHistory(kvModel, history, { maxSteps: a.stats.steps }).result).toBe('ok');
    expect(checkHistory(kvModel, history, { maxSteps: a.stats.steps - 1 }).result).toBe('unknown');
  });

  it('returns unknown when the time budget runs out, using the injected clock', () => {
    let now = 0;
    const clock = () => (now += 1); // every reading advances 1 ms
    const result = checkHistory(kvModel, history, { timeoutMs: 1, now: clock });
    expect(result.result).toBe('unknown');
  });

  it('checks small parts first, so a violation is found even if a big part exhausts the budget', () => {
    const big = simulateAtomicStore({ seed: 5, clients: 5, opsPerClient: 200, keys: ['big'] });
    const bad = [
      ok(90_000, 'z', 0, 1, kv.put('small', '1')),
      ok(90_001, 'z', 2, 3, kv.get('small'), { value: '2' }),
    ];
    const result = checkHistory(kvModel, [...big, ...bad], { maxSteps: 50 });
    expect(result.result).toBe('illegal');
    expect(result.partitions.map((p) => [p.label, p.result])).toEqual([
      ['key "small"', 'illegal'],
      ['key "big"', 'skipped'],
    ]);
  });
});
