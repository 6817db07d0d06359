import { describe, expect, test } from 'vitest';
import { KvErrorCode } from '../src/index.js';
import { MachineHarness, put, tag } from './helpers/machine.js';

describe('§6.3 exactly-once sessions', () => {
  test('a registration\'s session id is its entry index', () => {
    const h = new MachineHarness();
    h.write(put('x', 1));
    expect(h.register()).toBe(2);
    expect(h.register()).toBe(3);
    expect(h.machine.sessionCount).toBe(2);
    expect(h.machine.session(2)).toEqual({ lastSeen: 0, firstOutstanding: 1, cached: [] });
  });

  test('the same (clientId, seq) twice applies once and returns the cached result', () => {
    const h = new MachineHarness();
    const id = h.register();
    const first = h.write(put('k', 'mine'), tag(id, 1));
    h.write(put('k', 'someone else')); // a later write by another client
    const retry = h.write(put('k', 'mine'), tag(id, 1));
    expect(retry).toEqual(first);
    expect(first).toEqual({ type: 'put', revision: 2 });
    expect(h.value('k')).toBe('"someone else"');
    expect(h.machine.read('k')?.modRevision).toBe(3);
  });

  test('a cached cas result is replayed, not re-evaluated against the new state', () => {
    const h = new MachineHarness();
    const id = h.register();
    const first = h.write({ op: 'cas', key: 'c', expected: null, value: { kind: 1, data: new TextEncoder().encode('1') } }, tag(id, 1));
    const again = h.write({ op: 'cas', key: 'c', expected: null, value: { kind: 1, data: new TextEncoder().encode('1') } }, tag(id, 1));
    expect(first).toEqual({ type: 'cas', revision: 2, ok: true });
    expect(again).toBe(first);
  });

  test('out-of-order sequence numbers each run once; results stay until acknowledged', () => {
    const h = new MachineHarness();
    const id = h.register();
    const r3 = h.write(put('c', 3), tag(id, 3, 1));
    const r1 = h.write(put('a', 1), tag(id, 1, 1));
    const r2 = h.write(put('b', 2), tag(id, 2, 1));
    expect([r1, r2, r3].map((r) => r.revision)).toEqual([3, 4, 2]);
    expect(h.machine.session(id)?.cached).toEqual([1, 2, 3]);
    // Duplicates of each replay their own result.
    expect(h.write(put('a', 1), tag(id, 1, 1))).toEqual(r1);
    expect(h.write(put('c', 3), tag(id, 3, 1))).toEqual(r3);
    // Seq 4 says the client has every result below 3: 1 and 2 are dropped.
    h.write(put('d', 4), tag(id, 4, 3));
    expect(h.machine.session(id)).toMatchObject({ firstOutstanding: 3, cached: [3, 4] });
    expect(h.write(put('c', 3), tag(id, 3, 3))).toEqual(r3);
  });

  test('an acknowledged seq is never run again: a late duplicate gets KV_STALE_SEQUENCE', () => {
    const h = new MachineHarness();
    const id = h.register();
    h.write(put('k', 'old'), tag(id, 1));
    h.write(put('k', 'new'), tag(id, 2, 2));
    const late = h.write(put('k', 'old'), tag(id, 1, 1));
    expect(late).toMatchObject({ type: 'error', code: KvErrorCode.StaleSequence });
    expect(h.value('k')).toBe('"new"');
    // An acknowledgement never moves back.
    expect(h.machine.session(id)?.firstOutstanding).toBe(2);
  });

  test('a client may not run too far ahead of its first outstanding seq', () => {
    const h = new MachineHarness({ maxPendingPerSession: 4 });
    const id = h.register();
    expect(h.write(put('a', 1), tag(id, 4, 1))).toMatchObject({ type: 'put' });
    expect(h.write(put('a', 1), tag(id, 5, 1))).toMatchObject({ type: 'error', code: KvErrorCode.TooManyPending });
    expect(h.write(put('a', 1), tag(id, 5, 2))).toMatchObject({ type: 'put' });
  });

  test('sessions expire by log time, identically wherever the log is applied', () => {
    const h = new MachineHarness({ sessionTtlMs: 1000 });
    h.stamp = 100;
    const idle = h.register();
    const busy = h.register();
    h.stamp = 900;
    h.write(put('k', 1), tag(busy, 1));
    h.stamp = 1101; // idle last seen at 100: 1001 ms ago
    const r = h.write(put('k', 2), tag(busy, 2));
    expect(r).toMatchObject({ type: 'put' });
    expect(h.machine.session(idle)).toBeUndefined();
    expect(h.write(put('k', 3), tag(idle, 1))).toMatchObject({ type: 'error', code: KvErrorCode.SessionExpired });
    expect(h.value('k')).toBe('2');
    // The session's own command may be the one whose stamp expires it.
    h.stamp = 2102;
    expect(h.write(put('k', 4), tag(busy, 3))).toMatchObject({ type: 'error', code: KvErrorCode.SessionExpired });
    expect(h.machine.sessionCount).toBe(0);
  });

  test('a session idle for exactly the TTL is still live', () => {
    const h = new MachineHarness({ sessionTtlMs: 1000 });
    const id = h.register();
    h.stamp = 1000;
    expect(h.write(put('k', 1), tag(id, 1))).toMatchObject({ type: 'put' });
  });

  test('an unknown session id gets a coded error and runs nothing', () => {
    const h = new MachineHarness();
    h.write(put('k', 'v'));
    expect(h.write(put('k', 'x'), tag(99, 1))).toMatchObject({ type: 'error', code: KvErrorCode.SessionUnknown });
    expect(h.write(put('k', 'x'), tag(1, 1))).toMatchObject({ type: 'error', code: KvErrorCode.SessionExpired });
    expect(h.value('k')).toBe('"v"');
  });

  test('keepAlive refreshes a session; closeSession ends it', () => {
    const h = new MachineHarness({ sessionTtlMs: 1000 });
    const id = h.register();
    h.stamp = 800;
    expect(h.apply({ type: 'keepAlive', stamp: h.stamp, clientId: id })).toEqual({ type: 'session', revision: 2, clientId: id });
    h.stamp = 1500;
    expect(h.write(put('k', 1), tag(id, 1))).toMatchObject({ type: 'put' });
    expect(h.apply({ type: 'closeSession', stamp: h.stamp, clientId: id })).toMatchObject({ type: 'session' });
    expect(h.write(put('k', 2), tag(id, 2))).toMatchObject({ code: KvErrorCode.SessionExpired });
    expect(h.apply({ type: 'keepAlive', stamp: h.stamp, clientId: id })).toMatchObject({ code: KvErrorCode.SessionExpired });
  });

  test('writes without a session are not deduplicated', () => {
    const h = new MachineHarness();
    h.write(put('k', 1));
    h.write(put('k', 1));
    expect(h.machine.read('k')?.modRevision).toBe(2);
  });
});
