import { describe, expect, it } from 'vitest';
import { checkHistory, kv, kvModel, normalizeHistory, type KvModelInput, type KvOutput, type KvTxnInput } from '../src/index.js';
import { ok, unknown, type KvOp } from './helpers/history.js';

/** Mixed histories: typed as the model's input, or inference would take the first op's. */
const check = (history: KvOp<KvModelInput>[]) => checkHistory(kvModel, history);

const then = (...results: NonNullable<KvOutput['results']>): KvOutput => ({ succeeded: true, results });
const idsOf = (history: KvOp<KvModelInput>[]): number[][] =>
  kvModel.partition!(normalizeHistory(history)).map((part) => part.map((op) => op.id).sort((a, b) => a - b));

describe('partitioning histories with transactions', () => {
  it('joins the keys a txn names (compares and ops) into one part, and leaves other keys alone', () => {
    const history: KvOp<KvModelInput>[] = [
      ok(0, 'a', 0, 1, kv.put('a', '1')),
      ok(1, 'a', 2, 3, kv.put('b', '1')),
      ok(2, 'a', 4, 5, kv.put('c', '1')),
      ok(3, 'b', 6, 7, kv.txn([{ key: 'a', target: 'exists', exists: true }], [{ op: 'put', key: 'b', value: '2' }]), then({})),
    ];
    expect(idsOf(history)).toEqual([[0, 1, 3], [2]]);
    expect(kvModel.describePartition!(kvModel.partition!(normalizeHistory(history))[0])).toBe('keys "a", "b"');
  });

  it("joins the keys a txn's range covers", () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('p/1', '1')),
      ok(1, 'a', 2, 3, kv.put('p/2', '1')),
      ok(2, 'a', 4, 5, kv.put('q', '1')),
      ok(3, 'b', 6, 7, kv.txn([], [{ op: 'range', prefix: 'p/' }]), then({ entries: { 'p/1': '1', 'p/2': '1' } })),
    ];
    expect(idsOf(history)).toEqual([[0, 1, 3], [2]]);
  });

  it('finds a violation that only shows across the keys a txn links (split per key, it would pass)', () => {
    // Per key each read is fine (b read before b's write took effect), together it is half a txn.
    const history = [
      ok(0, 'a', 0, 10, kv.txn([], [{ op: 'put', key: 'a', value: '1' }, { op: 'put', key: 'b', value: '1' }]), then({}, {})),
      ok(1, 'b', 2, 8, kv.txn([], [{ op: 'get', key: 'a' }]), then({ value: '1' })),
      ok(2, 'b', 9, 9.5, kv.txn([], [{ op: 'get', key: 'b' }]), then({ value: null })),
    ];
    const result = check(history);
    expect(result.result).toBe('illegal');
    expect(result.partitions).toHaveLength(1);
  });

  it('keeps timed-out writes nobody read in parts with txns: an existence compare can depend on them', () => {
    const history = [
      unknown(0, 'a', 0, kv.put('x', 'never read')),
      ok(1, 'b', 5, 6, kv.txn([{ key: 'x', target: 'exists', exists: true }], [{ op: 'put', key: 'y', value: '1' }]), then({})),
    ];
    expect(idsOf(history)).toEqual([[0, 1]]);
    expect(check(history).result).toBe('ok');
  });

  it('drops timed-out read-only txns, and splits a timed-out txn comparing revisions into one copy per branch', () => {
    const readOnly = unknown(0, 'a', 0, kv.txn([], [{ op: 'get', key: 'x' }]));
    const byRevision = unknown(1, 'a', 1, kv.txn([{ key: 'x', target: 'modRevision', op: '<', value: 4 }], [{ op: 'put', key: 'x', value: '1' }]));
    const parts = kvModel.partition!(normalizeHistory([readOnly, byRevision]));
    expect(parts).toHaveLength(1);
    expect(parts[0].map((op) => [op.id, (op.input as KvTxnInput).branch])).toEqual([[1, 'success'], [1, 'failure']]);
  });

  it('still checks a txn-free part on values alone, dropping timed-out writes nobody observed', () => {
    const history = [
      unknown(0, 'a', 0, kv.put('x', 'never read')),
      ok(1, 'b', 5, 6, kv.get('x'), { value: null }),
      ok(2, 'c', 0, 1, kv.txn([], [{ op: 'put', key: 'y', value: '1' }]), then({})),
    ];
    expect(idsOf(history)).toEqual([[1], [2]]);
  });
});
