import { describe, expect, test } from 'vitest';
import { KvErrorCode } from '../src/errors.js';
import { MAX_LEASE_TTL_MS } from '../src/leaseErrors.js';
import { LeaseTable, type CapturedLease, type LeaseTableCapture } from '../src/leaseTable.js';

const ok = <T extends { ok: boolean }>(r: T): T => {
  expect(r.ok, JSON.stringify(r)).toBe(true);
  return r;
};

const contents = (c: LeaseTableCapture): CapturedLease[] => [...c.inOrder()];

describe('LeaseTable: grant, revoke, attach, detach', () => {
  test('a grant creates the lease with its TTL and revision; ids() ascends', () => {
    const t = new LeaseTable();
    expect(ok(t.grant(7, 5000, 3))).toEqual({ ok: true, lease: { id: 7, ttlMs: 5000, grantRevision: 3, keyCount: 0 } });
    ok(t.grant(2, 100, 4));
    ok(t.grant(Number.MAX_SAFE_INTEGER, MAX_LEASE_TTL_MS, 5));
    expect(t.size).toBe(3);
    expect(t.ids()).toEqual([2, 7, Number.MAX_SAFE_INTEGER]);
    expect(t.get(2)).toEqual({ id: 2, ttlMs: 100, grantRevision: 4, keyCount: 0 });
    expect(t.list().map((l) => l.id)).toEqual([2, 7, Number.MAX_SAFE_INTEGER]);
    expect(t.has(7) && !t.has(8)).toBe(true);
  });

  test('granting a live id fails KV_LEASE_EXISTS and changes nothing', () => {
    const t = new LeaseTable();
    ok(t.grant(1, 1000, 2));
    const r = t.grant(1, 9999, 3);
    expect(r).toEqual({ ok: false, code: KvErrorCode.LeaseExists, message: 'lease 1 already exists' });
    expect(t.get(1)).toEqual({ id: 1, ttlMs: 1000, grantRevision: 2, keyCount: 0 });
  });

  test.each([0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN])('lease id %d is refused (KV_INVALID_ARGUMENT)', (id) => {
    const t = new LeaseTable();
    const r = t.grant(id, 1000, 1);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe(KvErrorCode.InvalidArgument);
    expect(!r.ok && r.message).toMatch(/lease id/);
    expect(t.size).toBe(0);
  });

  test.each([0, -5, 2.5, MAX_LEASE_TTL_MS + 1])('ttlMs %d is refused (KV_INVALID_ARGUMENT)', (ttl) => {
    const t = new LeaseTable();
    const r = t.grant(1, ttl, 1);
    expect(!r.ok && r.code).toBe(KvErrorCode.InvalidArgument);
    expect(!r.ok && r.message).toMatch(/ttlMs/);
    expect(t.size).toBe(0);
  });

  test('attach and detach keep each lease\'s keys, listed in key order', () => {
    const t = new LeaseTable();
    ok(t.grant(1, 1000, 1));
    ok(t.grant(2, 1000, 2));
    for (const k of ['b', 'a', 'é', 'Z', 'a/1']) ok(t.attach(k, 1));
    ok(t.attach('x', 2));
    expect(t.keysOf(1)).toEqual(['Z', 'a', 'a/1', 'b', 'é']);
    expect(t.keysOf(2)).toEqual(['x']);
    expect(t.keysOf(3)).toBeUndefined();
    expect(t.get(1)?.keyCount).toBe(5);
    expect(t.attachedCount).toBe(6);
    expect([t.isAttached('a', 1), t.isAttached('x', 1), t.isAttached('x', 2), t.isAttached('x', 3)]).toEqual([true, false, true, false]);
    ok(t.attach('a', 1)); // already attached: nothing to do
    expect(t.attachedCount).toBe(6);
    expect(t.detach('a', 1)).toBe(true);
    expect(t.detach('a', 1)).toBe(false);
    expect(t.detach('x', 1)).toBe(false); // attached to 2, not 1
    expect(t.detach('x', 9)).toBe(false); // no lease 9
    expect(t.keysOf(1)).toEqual(['Z', 'a/1', 'b', 'é']);
    expect(t.attachedCount).toBe(5);
  });

  test('attaching to an unknown lease fails KV_LEASE_NOT_FOUND and attaches nothing', () => {
    const t = new LeaseTable();
    expect(t.attach('k', 4)).toEqual({ ok: false, code: KvErrorCode.LeaseNotFound, message: 'lease 4 not found' });
    expect(t.attachedCount).toBe(0);
  });

  test('revoke removes the lease and returns its keys in key order', () => {
    const t = new LeaseTable();
    ok(t.grant(1, 1000, 1));
    ok(t.grant(2, 1000, 2));
    for (const k of ['m', 'c', 'q']) ok(t.attach(k, 1));
    ok(t.attach('z', 2));
    expect(t.revoke(1)).toEqual({ ok: true, keys: ['c', 'm', 'q'] });
    expect(t.has(1)).toBe(false);
    expect(t.ids()).toEqual([2]);
    expect(t.attachedCount).toBe(1);
    expect(t.attach('c', 1)).toMatchObject({ ok: false, code: KvErrorCode.LeaseNotFound });
    // The id is free again after a revoke.
    expect(ok(t.grant(1, 50, 9))).toMatchObject({ lease: { id: 1, ttlMs: 50, grantRevision: 9, keyCount: 0 } });
  });

  test('revoking an unknown lease fails KV_LEASE_NOT_FOUND', () => {
    const t = new LeaseTable();
    ok(t.grant(1, 1000, 1));
    expect(t.revoke(2)).toEqual({ ok: false, code: KvErrorCode.LeaseNotFound, message: 'lease 2 not found' });
    expect(t.ids()).toEqual([1]);
  });
});

describe('LeaseTable.capture', () => {
  function table(): LeaseTable {
    const t = new LeaseTable();
    ok(t.grant(3, 300, 1));
    ok(t.grant(1, 100, 2));
    ok(t.attach('b', 1));
    ok(t.attach('a', 1));
    ok(t.attach('c', 3));
    return t;
  }
  const before: CapturedLease[] = [
    { id: 1, ttlMs: 100, grantRevision: 2, keys: ['a', 'b'] },
    { id: 3, ttlMs: 300, grantRevision: 1, keys: ['c'] },
  ];

  test('holds the table of its moment, ascending ids, keys in order', () => {
    expect(contents(table().capture())).toEqual(before);
  });

  test('is unchanged by every later grant, attach, detach and revoke', () => {
    const t = table();
    const c = t.capture();
    ok(t.attach('d', 1));
    expect(t.detach('a', 1)).toBe(true);
    ok(t.revoke(3));
    ok(t.grant(2, 200, 5));
    ok(t.attach('e', 2));
    ok(t.grant(3, 999, 6)); // same id again, new lease
    ok(t.attach('f', 3));
    expect(contents(c)).toEqual(before);
    expect(c.size).toBe(2);
    // ...and the live table has every change.
    expect(t.ids()).toEqual([1, 2, 3]);
    expect(t.keysOf(1)).toEqual(['b', 'd']);
    expect(t.keysOf(2)).toEqual(['e']);
    expect(t.get(3)).toEqual({ id: 3, ttlMs: 999, grantRevision: 6, keyCount: 1 });
  });

  test('several captures each keep their own moment; reading twice gives the same', () => {
    const t = table();
    const c1 = t.capture();
    ok(t.attach('x', 1));
    const c2 = t.capture();
    ok(t.attach('y', 1));
    expect(t.detach('b', 1)).toBe(true);
    const c3 = t.capture();
    ok(t.revoke(1));
    expect(contents(c1)[0]!.keys).toEqual(['a', 'b']);
    expect(contents(c2)[0]!.keys).toEqual(['a', 'b', 'x']);
    expect(contents(c3)[0]!.keys).toEqual(['a', 'x', 'y']);
    expect(contents(c3)).toEqual(contents(c3));
    expect(t.keysOf(1)).toBeUndefined();
  });

  test('a lease granted after a capture is changed in place without affecting it', () => {
    const t = new LeaseTable();
    const c = t.capture();
    ok(t.grant(5, 10, 1));
    ok(t.attach('k', 5));
    ok(t.attach('l', 5));
    expect(c.size).toBe(0);
    expect(contents(c)).toEqual([]);
    expect(t.keysOf(5)).toEqual(['k', 'l']);
  });
});

describe('LeaseTable.append (restore)', () => {
  test('takes leases in ascending id order only, and only onto a table of appends', () => {
    const t = new LeaseTable();
    expect(t.append({ id: 2, ttlMs: 10, grantRevision: 1 }, new Set(['a']))).toBe(true);
    expect(t.append({ id: 2, ttlMs: 10, grantRevision: 1 }, new Set())).toBe(false);
    expect(t.append({ id: 1, ttlMs: 10, grantRevision: 1 }, new Set())).toBe(false);
    expect(t.append({ id: 5, ttlMs: 10, grantRevision: 1 }, new Set(['b', 'c']))).toBe(true);
    expect(t.ids()).toEqual([2, 5]);
    expect(t.attachedCount).toBe(3);
    const granted = new LeaseTable();
    ok(granted.grant(1, 10, 1));
    expect(granted.append({ id: 9, ttlMs: 10, grantRevision: 1 }, new Set())).toBe(false);
  });
});
