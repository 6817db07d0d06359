import { describe, expect, it } from 'vitest';
import { checkHistory, kv, kvModel, normalizeHistory } from '../src/index.js';
import { ok, unknown } from './helpers/history.js';

describe('per-key partitioning', () => {
  it('checks keys independently: a history linearizable per key is linearizable', () => {
    // Across keys this looks odd (x's read overlaps y's write), but keys share no state.
    const history = [
      ok(0, 'a', 0, 10, kv.put('x', '1')),
      ok(1, 'b', 0, 10, kv.put('y', '1')),
      ok(2, 'c', 11, 12, kv.get('x'), { value: '1' }),
      ok(3, 'c', 13, 14, kv.get('y'), { value: '1' }),
    ];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('ok');
    expect(result.partitions.map((p) => p.label).sort()).toEqual(['key "x"', 'key "y"']);
  });

  it('reports the violating key and does not blame the others', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('good', '1')),
      ok(1, 'a', 2, 3, kv.get('good'), { value: '1' }),
      ok(2, 'b', 0, 1, kv.put('bad', '1')),
      ok(3, 'b', 2, 3, kv.put('bad', '2')),
      ok(4, 'c', 4, 5, kv.get('bad'), { value: '1' }),
    ];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.partition).toBe('key "bad"');
    expect(result.violation?.operations.map((op) => op.id)).toEqual([2, 3, 4]);
    const good = result.partitions.find((p) => p.label === 'key "good"');
    expect(good?.result).toBe('ok');
  });

  it('splits by key, so each search only sees its own key', () => {
    const ops = normalizeHistory([
      ok(0, 'a', 0, 1, kv.put('x', '1')),
      ok(1, 'a', 2, 3, kv.put('y', '1')),
      ok(2, 'a', 4, 5, kv.get('x'), { value: '1' }),
    ]);
    const parts = kvModel.partition!(ops).map((part) => part.map((op) => op.id));
    expect(parts).toEqual([[0, 2], [1]]);
  });

  it('drops reads that timed out and timed-out writes nobody observed', () => {
    const ops = normalizeHistory([
      unknown(0, 'a', 0, kv.get('x')),
      unknown(1, 'a', 1, kv.put('x', 'never-read')),
      unknown(2, 'b', 1, kv.put('x', 'read')),
      ok(3, 'c', 5, 6, kv.get('x'), { value: 'read' }),
    ]);
    expect(kvModel.partition!(ops).map((part) => part.map((op) => op.id))).toEqual([[2, 3]]);
  });

  it('keeps timed-out writes when a failed cas does not report what it saw', () => {
    // Without the put, "x" would be absent and the cas could not have failed.
    const history = [
      unknown(0, 'a', 0, kv.put('x', 'hidden')),
      ok(1, 'b', 5, 6, kv.cas('x', null, 'v'), { ok: false }),
    ];
    expect(checkHistory(kvModel, history).result).toBe('ok');
    expect(kvModel.partition!(normalizeHistory(history))[0]).toHaveLength(2);
  });
});

describe('range reads', () => {
  it('joins the keys a range covers into one part, and leaves other keys alone', () => {
    const ops = normalizeHistory([
      ok(0, 'a', 0, 1, kv.put('a/1', 'x')),
      ok(1, 'a', 2, 3, kv.put('a/2', 'y')),
      ok(2, 'a', 4, 5, kv.put('b/1', 'z')),
      ok(3, 'b', 6, 7, kv.range('a/'), { entries: { 'a/1': 'x', 'a/2': 'y' } }),
    ]);
    const parts = kvModel.partition!(ops).map((part) => part.map((op) => op.id).sort());
    expect(parts).toEqual([[0, 1, 3], [2]]);
    expect(kvModel.describePartition!(kvModel.partition!(ops)[0])).toBe('keys "a/1", "a/2"');
  });

  it('accepts a range that sees a consistent snapshot', () => {
    const history = [
      ok(0, 'a', 0, 10, kv.put('a/1', '1')),
      ok(1, 'b', 0, 10, kv.put('a/2', '2')),
      ok(2, 'c', 5, 6, kv.range('a/'), { entries: { 'a/2': '2' } }),
    ];
    expect(checkHistory(kvModel, history).result).toBe('ok');
  });

  it('rejects a range that sees a write but misses one that finished before it', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('a/1', '1')),
      ok(1, 'b', 2, 3, kv.put('a/2', '2')),
      ok(2, 'c', 4, 5, kv.range('a/'), { entries: { 'a/2': '2' } }),
    ];
    expect(checkHistory(kvModel, history).result).toBe('illegal');
  });

  it('rejects a range over keys nobody wrote that returns entries', () => {
    const history = [ok(0, 'a', 0, 1, kv.range('z/'), { entries: { 'z/1': '1' } })];
    const result = checkHistory(kvModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.partition).toBe('prefix "z/"');
  });
});
