import { describe, expect, it } from 'vitest';
import { checkHistory, formatResult, kv, kvModel } from '../src/index.js';
import { ok } from './helpers/history.js';
import { injectStaleRead, simulateAtomicStore } from './helpers/simulate.js';

// Generous bounds: they catch a lost optimisation (seconds become minutes), not a slow CI box.
const SECONDS = 1000;

describe('large histories', () => {
  it('accepts 5 clients × 2,000 ops on one key of a real atomic store', () => {
    const history = simulateAtomicStore({ seed: 1, clients: 5, opsPerClient: 2000, keys: ['x'] });
    const result = checkHistory(kvModel, history);
    expect(result.result, formatResult(result)).toBe('ok');
    expect(result.stats.operations).toBe(10_000);
    expect(result.stats.elapsedMs).toBeLessThan(10 * SECONDS);
  }, 60_000);

  it('finds one stale read injected into 5 clients × 2,000 ops, and shrinks it', () => {
    const history = simulateAtomicStore({ seed: 2, clients: 5, opsPerClient: 2000, keys: ['x'] });
    const stale = injectStaleRead(history);
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.stuck.id).toBe(stale);
    const witness = result.violation?.witness;
    expect(witness?.essential.map((op) => op.id)).toContain(stale);
    expect(witness?.essential.length).toBeLessThanOrEqual(3);
    expect(witness?.minimal).toBe(true);
    expect(result.stats.elapsedMs).toBeLessThan(20 * SECONDS);
  }, 60_000);

  it('handles timeouts on many keys: accepts the real history, finds the injected anomaly', () => {
    const history = simulateAtomicStore({ seed: 3, clients: 5, opsPerClient: 2000, keys: ['a', 'b', 'c', 'd'], timeouts: 0.05 });
    expect(history.filter((op) => op.status === 'unknown').length).toBeGreaterThan(300);
    expect(checkHistory(kvModel, history).result).toBe('ok');
    const stale = injectStaleRead(history);
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.stuck.id).toBe(stale);
  }, 60_000);

  it('walks a 100,000-op sequential history without recursion', () => {
    const history = Array.from({ length: 100_000 }, (_, i) =>
      i % 2 === 0 ? ok(i, 'a', i, i + 0.5, kv.put('x', `${i}`)) : ok(i, 'a', i, i + 0.5, kv.get('x'), { value: `${i - 1}` }),
    );
    expect(checkHistory(kvModel, history).result).toBe('ok');
  }, 60_000);
});
