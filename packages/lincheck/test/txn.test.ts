import { describe, expect, it } from 'vitest';
import { checkHistory, formatResult, kv, kvModel, LincheckErrorCode, type KvCompare, type KvModelInput, type KvOutput, type KvTxnOp } from '../src/index.js';
import { ok, unknown, type KvOp } from './helpers/history.js';

/** Mixed histories: typed as the model's input, or inference would take the first op's. */
const check = (history: KvOp<KvModelInput>[]) => checkHistory(kvModel, history);

const put = (key: string, value: string): KvTxnOp => ({ op: 'put', key, value });
const get = (key: string): KvTxnOp => ({ op: 'get', key });
const del = (key: string): KvTxnOp => ({ op: 'delete', key });
const range = (prefix: string): KvTxnOp => ({ op: 'range', prefix });
const absent = (key: string): KvCompare => ({ key, target: 'exists', exists: false });
const is = (key: string, value: string): KvCompare => ({ key, target: 'value', op: '==', value });
const then = (...results: KvOutput['results'] & object): KvOutput => ({ succeeded: true, results });
const otherwise = (...results: KvOutput['results'] & object): KvOutput => ({ succeeded: false, results });

describe('transactions in the KV model', () => {
  it('accepts two concurrent create-if-absent txns of which one wins, and a read of the winner', () => {
    const history = [
      ok(0, 'a', 0, 10, kv.txn([absent('lock')], [put('lock', 'a')], [get('lock')]), then({})),
      ok(1, 'b', 0, 10, kv.txn([absent('lock')], [put('lock', 'b')], [get('lock')]), otherwise({ value: 'a' })),
      ok(2, 'c', 11, 12, kv.get('lock'), { value: 'a' }),
    ];
    expect(check(history).result).toBe('ok');
  });

  it('rejects two txns that both succeed on the same exists=false compare', () => {
    const history = [
      ok(0, 'a', 0, 10, kv.txn([absent('lock')], [put('lock', 'a')]), then({})),
      ok(1, 'b', 0, 10, kv.txn([absent('lock')], [put('lock', 'b')]), then({})),
    ];
    const result = check(history);
    expect(result.result).toBe('illegal');
    expect(formatResult(result)).toContain('txn(if !exists("lock") then [put("lock", "b")] else []) → then');
  });

  it('rejects a txn whose compare saw a value overwritten before it began', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', '1')),
      ok(1, 'a', 2, 3, kv.put('x', '2')),
      ok(2, 'b', 4, 5, kv.txn([is('x', '1')], [put('y', 'saw 1')]), then({})),
    ];
    expect(check(history).result).toBe('illegal');
    const fresh = [...history.slice(0, 2), ok(2, 'b', 4, 5, kv.txn([is('x', '1')], [put('y', 'saw 1')]), otherwise())];
    expect(check(fresh).result).toBe('ok');
  });

  it('rejects a txn get that returns a stale value', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', '1')),
      ok(1, 'a', 2, 3, kv.put('x', '2')),
      ok(2, 'b', 4, 5, kv.txn([], [get('x')]), then({ value: '1' })),
    ];
    expect(check(history).result).toBe('illegal');
  });

  it("rejects a reader that sees half of a txn's writes, even while the txn runs", () => {
    const write = ok(0, 'a', 0, 10, kv.txn([], [put('a', '1'), put('b', '1')]), then({}, {}));
    const half = ok(1, 'b', 2, 8, kv.txn([], [get('a'), get('b')]), then({ value: '1' }, { value: null }));
    expect(check([write, half]).result).toBe('illegal');
    const halfRange = ok(1, 'b', 2, 8, kv.range(''), { entries: { a: '1' } });
    expect(check([write, halfRange]).result).toBe('illegal');
    const whole = ok(1, 'b', 2, 8, kv.txn([], [get('a'), get('b')]), then({ value: '1' }, { value: '1' }));
    expect(check([write, whole]).result).toBe('ok');
  });

  it('runs a branch in order: each op sees the writes before it', () => {
    const txn = kv.txn([], [put('x', '1'), get('x'), del('x'), get('x'), range('')]);
    const right = then({}, { value: '1' }, { deleted: true }, { value: null }, { entries: {} });
    expect(check([ok(0, 'a', 0, 1, txn, right)]).result).toBe('ok');
    const wrong = then({}, { value: null }, { deleted: true }, { value: null }, { entries: {} });
    expect(check([ok(0, 'a', 0, 1, txn, wrong)]).result).toBe('illegal');
    const notDeleted = then({}, { value: '1' }, { deleted: false }, { value: null }, { entries: {} });
    expect(check([ok(0, 'a', 0, 1, txn, notDeleted)]).result).toBe('illegal');
  });

  it('compares an absent key as no value, and checks range entries in any order', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('p/2', 'b')),
      ok(1, 'a', 2, 3, kv.put('p/1', 'a')),
      ok(2, 'b', 4, 5, kv.txn([{ key: 'q', target: 'value', op: '!=', value: 'v' }], [range('p/')]), then({ entries: { 'p/2': 'b', 'p/1': 'a' } })),
    ];
    expect(check(history).result).toBe('ok');
    const isV = ok(2, 'b', 4, 5, kv.txn([is('q', 'v')], [range('p/')]), then({ entries: { 'p/1': 'a', 'p/2': 'b' } }));
    expect(check([...history.slice(0, 2), isV]).result).toBe('illegal');
  });

  it('counts versions: 1 after the creating write, +1 per write, 0 once deleted', () => {
    const version = (op: '==' | '!=' | '<' | '>', value: number): KvCompare => ({ key: 'x', target: 'version', op, value });
    const before = [ok(0, 'a', 0, 1, kv.put('x', 'a')), ok(1, 'a', 2, 3, kv.put('x', 'b'))];
    const txnAt = (c: KvCompare, succeeded: boolean) =>
      ok(2, 'b', 4, 5, kv.txn([c], [get('x')]), succeeded ? then({ value: 'b', version: 2 }) : otherwise());
    expect(check([...before, txnAt(version('==', 2), true)]).result).toBe('ok');
    expect(check([...before, txnAt(version('>', 1), true)]).result).toBe('ok');
    expect(check([...before, txnAt(version('<', 2), false)]).result).toBe('ok');
    expect(check([...before, txnAt(version('==', 1), true)]).result).toBe('illegal');
    expect(check([...before, txnAt(version('!=', 2), true)]).result).toBe('illegal');
    const wrongVersion = ok(2, 'b', 4, 5, kv.txn([], [get('x')]), then({ value: 'b', version: 1 }));
    expect(check([...before, wrongVersion]).result).toBe('illegal');
    const deleted = [...before, ok(2, 'a', 4, 5, kv.delete('x')), ok(3, 'b', 6, 7, kv.txn([version('==', 0)], [put('x', 'c')]), then({}))];
    expect(check(deleted).result).toBe('ok');
  });

  it('compares revisions that writes report, and keeps them growing per key', () => {
    const rev = (target: 'createRevision' | 'modRevision', value: number): KvCompare => ({ key: 'x', target, op: '==', value });
    const before = [ok(0, 'a', 0, 1, kv.put('x', 'a'), { revision: 5 }), ok(1, 'a', 2, 3, kv.put('x', 'b'), { revision: 7 })];
    const txnIf = (c: KvCompare) => ok(2, 'b', 4, 5, kv.txn([c], [put('y', '1')]), { ...then({}), revision: 9 });
    expect(check([...before, txnIf(rev('modRevision', 7))]).result).toBe('ok');
    expect(check([...before, txnIf(rev('createRevision', 5))]).result).toBe('ok');
    expect(check([...before, txnIf(rev('modRevision', 5))]).result).toBe('illegal');
    expect(check([...before, txnIf(rev('createRevision', 7))]).result).toBe('illegal');
    const backwards = [ok(0, 'a', 0, 1, kv.put('x', 'a'), { revision: 7 }), ok(1, 'a', 2, 3, kv.put('x', 'b'), { revision: 5 })];
    expect(check(backwards).result).toBe('illegal');
    const readRevisions = ok(2, 'b', 4, 5, kv.txn([], [get('x')]), then({ value: 'b', createRevision: 5, modRevision: 7, version: 2 }));
    expect(check([...before, readRevisions]).result).toBe('ok');
  });

  it('trusts an acknowledged txn on a revision nobody reported, and lets a timed-out one take either branch', () => {
    const c: KvCompare = { key: 'x', target: 'modRevision', op: '==', value: 3 };
    const writes = [unknown(0, 'a', 0, kv.put('x', 'a'))];
    const acked = ok(1, 'b', 5, 6, kv.txn([c], [put('y', 'then')], [put('y', 'else')]), then({}));
    expect(check([...writes, acked, ok(2, 'c', 7, 8, kv.get('y'), { value: 'then' })]).result).toBe('ok');
    expect(check([...writes, acked, ok(2, 'c', 7, 8, kv.get('y'), { value: 'else' })]).result).toBe('illegal');
    const timedOut = unknown(1, 'b', 5, kv.txn([c], [put('y', 'then')], [put('y', 'else')]));
    for (const value of ['then', 'else', null]) {
      expect(check([...writes, timedOut, ok(2, 'c', 7, 8, kv.get('y'), { value })]).result).toBe('ok');
    }
    expect(check([...writes, timedOut, ok(2, 'c', 7, 8, kv.get('y'), { value: 'other' })]).result).toBe('illegal');
  });

  it('rejects a malformed txn with a coded error naming the operation', () => {
    const missing = ok(4, 'a', 0, 1, kv.txn([], [get('x'), get('y')]), then({ value: null }));
    expect(() => check([missing])).toThrow(expect.objectContaining({ code: LincheckErrorCode.InvalidOperation, message: expect.stringContaining('operation #4') }));
    const badCompare = ok(5, 'a', 0, 1, kv.txn([{ key: 'x', target: 'version', op: '==', value: 'one' as unknown as number }], []), then());
    expect(() => check([badCompare])).toThrow(expect.objectContaining({ code: LincheckErrorCode.InvalidOperation }));
  });
});
