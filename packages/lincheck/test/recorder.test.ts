import { describe, expect, it } from 'vitest';
import { checkHistory, HistoryRecorder, kv, kvModel, LincheckErrorCode, type KvInput, type KvOutput } from '../src/index.js';

describe('HistoryRecorder', () => {
  it('orders events with a logical clock by default', () => {
    const rec = new HistoryRecorder<KvInput, KvOutput>();
    const a = rec.invoke('a', kv.put('x', '1'));
    const b = rec.invoke('b', kv.get('x'));
    a.ok({});
    b.ok({ value: null });
    const c = rec.invoke('c', kv.get('x'));
    c.ok({ value: '1' });
    expect(rec.history().map((op) => [op.id, op.call, op.return, op.status])).toEqual([
      [0, 0, 2, 'ok'],
      [1, 1, 3, 'ok'],
      [2, 4, 5, 'ok'],
    ]);
    expect(checkHistory(kvModel, rec.history()).result).toBe('ok');
  });

  it('uses an injected clock, e.g. a simulator’s virtual time', () => {
    let time = 100;
    const rec = new HistoryRecorder<KvInput, KvOutput>({ now: () => time, firstId: 1000 });
    const h = rec.invoke('a', kv.put('x', '1'));
    time = 250;
    h.ok({});
    expect(rec.history()).toEqual([
      { id: 1000, clientId: 'a', call: 100, return: 250, status: 'ok', input: kv.put('x', '1'), output: {} },
    ]);
  });

  it('records failures, timeouts, and reports unfinished operations as unknown', () => {
    const rec = new HistoryRecorder<KvInput, KvOutput>();
    rec.invoke('a', kv.put('x', '1')).fail();
    rec.invoke('b', kv.put('x', '2')).unknown();
    rec.invoke('c', kv.put('x', '3'));
    const history = rec.history();
    expect(history.map((op) => op.status)).toEqual(['fail', 'unknown', 'unknown']);
    expect(history.slice(1).map((op) => op.return)).toEqual([Infinity, Infinity]);
  });

  it('lets a recorded history expose a bug: a failed put whose value is read', () => {
    const rec = new HistoryRecorder<KvInput, KvOutput>();
    rec.invoke('a', kv.put('x', '1')).fail();
    rec.invoke('b', kv.get('x')).ok({ value: '1' });
    expect(checkHistory(kvModel, rec.history()).result).toBe('illegal');
  });

  it('refuses to complete an operation twice', () => {
    const rec = new HistoryRecorder<KvInput, KvOutput>();
    const h = rec.invoke('a', kv.get('x'));
    h.ok({ value: null });
    expect(() => h.unknown()).toThrow(expect.objectContaining({ code: LincheckErrorCode.AlreadyCompleted }));
    expect(rec.history()[0].status).toBe('ok');
  });
});
