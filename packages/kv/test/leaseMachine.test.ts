import { describe, expect, test } from 'vitest';
import { snapshotBytes } from '@raftkit/core';
import { decodeCommand, encodeCommand, KvErrorCode, KvStateMachine, type KvChange, type KvWrite } from '../src/index.js';
import { MachineHarness, del, put, snapshotHex, tag, val } from './helpers/machine.js';
import { referenceSnapshot } from './helpers/referenceSnapshot.js';

const grant = (id: number, ttlMs: number): KvWrite => ({ op: 'leaseGrant', id, ttlMs });
const revoke = (id: number, grantRevision = 0, expired = false): KvWrite => ({ op: 'leaseRevoke', id, grantRevision, expired });
const putOn = (key: string, value: unknown, lease: number): KvWrite => ({ op: 'put', key, value: val(value), lease });
const meta = (index: number) => ({ index, term: 1, voters: ['a'] });

function withChanges(): { h: MachineHarness; seen: [number, readonly KvChange[]][]; sink: { granted: number[]; revoked: number[] } } {
  const h = new MachineHarness();
  const seen: [number, readonly KvChange[]][] = [];
  h.machine.subscribeChanges({ applied: (r, c) => seen.push([r, c]), restored: () => {} });
  const sink = { granted: [] as number[], revoked: [] as number[] };
  h.machine.subscribeLeases({ granted: (id) => sink.granted.push(id), revoked: (id) => sink.revoked.push(id) });
  return { h, seen, sink };
}

describe('lease commands', () => {
  test('grant, revoke and put with a lease round-trip through the command codec', () => {
    for (const write of [grant(0, 5000), grant(9, 1), revoke(9), revoke(9, 4, true), putOn('k', 'v', 3)]) {
      const cmd = { type: 'write' as const, stamp: 7, session: tag(2, 3), write };
      expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
    }
  });

  test('a grant with id 0 takes the entry index; a live id cannot be granted twice', () => {
    const { h, sink } = withChanges();
    expect(h.write(grant(0, 1000))).toEqual({ type: 'leaseGrant', revision: 1, id: 1, ttlMs: 1000 });
    expect(h.write(grant(7, 2000))).toEqual({ type: 'leaseGrant', revision: 2, id: 7, ttlMs: 2000 });
    expect(h.write(grant(7, 3000))).toMatchObject({ type: 'error', revision: 3, code: KvErrorCode.LeaseExists });
    expect(h.write(grant(8, 2 ** 41))).toMatchObject({ type: 'error', code: KvErrorCode.InvalidArgument });
    expect(h.write(grant(8, 0))).toMatchObject({ type: 'error', code: KvErrorCode.BadCommand });
    expect(h.machine.leaseList()).toEqual([
      { id: 1, ttlMs: 1000, grantRevision: 1, keyCount: 0 },
      { id: 7, ttlMs: 2000, grantRevision: 2, keyCount: 0 },
    ]);
    expect(sink.granted).toEqual([1, 7]);
  });

  test('a put naming a missing lease fails KV_LEASE_NOT_FOUND and writes nothing', () => {
    const { h, seen } = withChanges();
    h.write(put('k', 'old'));
    expect(h.write(putOn('k', 'new', 5))).toMatchObject({ type: 'error', revision: 2, code: KvErrorCode.LeaseNotFound, message: 'lease 5 not found' });
    expect(h.value('k')).toBe('"old"');
    expect(h.machine.read('k')?.lease).toBe(0);
    expect(seen.map(([r]) => r)).toEqual([1]);
  });

  test('a txn whose chosen branch names a missing lease fails whole; one that names it in the other branch runs', () => {
    const { h } = withChanges();
    h.write(grant(3, 1000));
    const txn = (compareExists: boolean): KvWrite => ({
      op: 'txn',
      compare: [{ key: 'x', target: 'exists', exists: compareExists }],
      success: [{ op: 'put', key: 'a', value: val(1), lease: 3 }, { op: 'put', key: 'b', value: val(2), lease: 4 }],
      failure: [{ op: 'put', key: 'c', value: val(3), lease: 3 }],
    });
    expect(h.write(txn(false))).toMatchObject({ type: 'error', code: KvErrorCode.LeaseNotFound, message: 'lease 4 not found' });
    expect(h.machine.size).toBe(0);
    expect(h.machine.leaseKeys(3)).toEqual([]);
    expect(h.write(txn(true))).toMatchObject({ type: 'txn', succeeded: false });
    expect(h.machine.leaseKeys(3)).toEqual(['c']);
  });

  test('puts attach, move and detach keys; a delete detaches', () => {
    const { h } = withChanges();
    h.write(grant(1, 1000));
    h.write(grant(2, 1000));
    h.write(putOn('a', 1, 1));
    h.write(putOn('b', 1, 1));
    h.write(putOn('a', 2, 2));
    expect([h.machine.leaseKeys(1), h.machine.leaseKeys(2)]).toEqual([['b'], ['a']]);
    h.write(put('a', 3));
    expect(h.machine.read('a')?.lease).toBe(0);
    expect(h.machine.leaseKeys(2)).toEqual([]);
    h.write(del('b'));
    expect(h.machine.leaseKeys(1)).toEqual([]);
    h.write({ op: 'cas', key: 'c', expected: null, value: val(1) });
    h.write(putOn('c', 2, 1));
    h.write({ op: 'cas', key: 'c', expected: val(2), value: val(3) });
    expect(h.machine.leaseKeys(1)).toEqual([]);
  });

  test('a revoke deletes every attached key at its revision, reported as deletes in key order', () => {
    const { h, seen, sink } = withChanges();
    h.write(grant(4, 1000)); // 1
    h.write(putOn('z', 'z', 4)); // 2
    h.write(putOn('m', 'm', 4)); // 3
    h.write(put('other', 1)); // 4
    seen.length = 0;
    expect(h.write(revoke(4, 0, true))).toEqual({ type: 'leaseRevoke', revision: 5, revoked: true, deleted: 2 });
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe(5);
    expect(seen[0]![1].map((c) => [c.type, c.key, c.prev?.lease])).toEqual([
      ['delete', 'm', 4],
      ['delete', 'z', 4],
    ]);
    expect(h.machine.size).toBe(1);
    expect(h.machine.leaseList()).toEqual([]);
    expect(sink.revoked).toEqual([4]);
    expect(h.write(revoke(4))).toEqual({ type: 'leaseRevoke', revision: 6, revoked: false, deleted: 0 });
    expect(sink.revoked).toEqual([4]);
  });

  test('a revoke naming a grant revision leaves a later grant of the same id alone', () => {
    const { h } = withChanges();
    h.write(grant(9, 1000)); // 1
    h.write(revoke(9)); // 2
    h.write(grant(9, 1000)); // 3
    h.write(putOn('k', 1, 9));
    expect(h.write(revoke(9, 1, true))).toMatchObject({ type: 'leaseRevoke', revoked: false, deleted: 0 });
    expect(h.machine.read('k')).toBeDefined();
    expect(h.write(revoke(9, 3, true))).toMatchObject({ type: 'leaseRevoke', revoked: true, deleted: 1 });
  });

  test('a tagged grant or failed put is cached: its retry replays the result and runs nothing', () => {
    const { h, sink } = withChanges();
    const id = h.register();
    const first = h.write(grant(0, 1000), tag(id, 1));
    expect(first).toMatchObject({ type: 'leaseGrant', id: 2 });
    expect(h.write(grant(0, 1000), tag(id, 1))).toEqual(first);
    const failed = h.write(putOn('k', 1, 99), tag(id, 2, 1));
    expect(h.write(grant(99, 1000))).toMatchObject({ type: 'leaseGrant', id: 99 });
    expect(h.write(putOn('k', 1, 99), tag(id, 2, 1))).toEqual(failed);
    expect(h.machine.read('k')).toBeUndefined();
    expect(h.machine.leaseList().map((l) => l.id)).toEqual([2, 99]);
    expect(sink.granted).toEqual([2, 99]);
  });
});

describe('leases in snapshots', () => {
  function leasedMachine(): MachineHarness {
    const h = new MachineHarness();
    const id = h.register();
    h.write(grant(5, 1000), tag(id, 1)); // cached leaseGrant result
    h.write(grant(0, 30_000));
    h.write(putOn('b', 1, 5));
    h.write(putOn('a', 2, 5));
    h.write(putOn('c', 3, 3));
    h.write(put('d', 4));
    h.write(putOn('e', 5, 404), tag(id, 2, 1)); // cached error result
    return h;
  }

  test('the table, attached keys and cached lease results survive a round trip; bytes match the reference', async () => {
    const h = leasedMachine();
    const bytes = await snapshotBytes(h.machine.snapshot());
    expect(Buffer.from(bytes).equals(Buffer.from(referenceSnapshot(h.machine)))).toBe(true);
    const m = new KvStateMachine();
    const granted: number[] = [];
    m.subscribeLeases({ granted: (id) => granted.push(id), revoked: () => {} });
    await m.restore(bytes, meta(h.index));
    expect(await snapshotHex(m)).toBe(await snapshotHex(h.machine));
    expect(m.leaseList()).toEqual(h.machine.leaseList());
    expect(m.leaseKeys(5)).toEqual(['a', 'b']);
    expect(granted).toEqual([3, 5]);
    // Restored keys are attached: revoking deletes them.
    const r = m.apply({ index: h.index + 1, term: 1, data: encodeCommand({ type: 'write', stamp: 0, session: null, write: revoke(5) }) });
    expect(r).toMatchObject({ type: 'leaseRevoke', deleted: 2 });
    expect(m.read('a')).toBeUndefined();
  });

  test('a streamed restore decodes the lease section from chunks cut anywhere (1 and 7 bytes)', async () => {
    const h = leasedMachine();
    const bytes = await snapshotBytes(h.machine.snapshot());
    for (const size of [1, 7]) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.slice(at, at + size));
      const m = new KvStateMachine();
      await m.restore({ [Symbol.asyncIterator]: async function* () { yield* chunks; } }, meta(h.index));
      expect(await snapshotHex(m)).toBe(Buffer.from(bytes).toString('hex'));
      expect(m.leaseKeys(5)).toEqual(['a', 'b']);
    }
  });

  test('a restore tells lease sinks of leases that went and came', async () => {
    const source = leasedMachine();
    const bytes = await snapshotBytes(source.machine.snapshot());
    const { h, sink } = withChanges();
    h.write(grant(5, 1000)); // same id, other grant revision than the snapshot's
    h.write(grant(77, 1000));
    sink.granted.length = 0;
    await h.machine.restore(bytes, meta(source.index));
    expect(sink.revoked.sort()).toEqual([5, 77]);
    expect(sink.granted.sort()).toEqual([3, 5]);
  });

  test('the restore consistency check rejects a lease table that does not match the key records', async () => {
    // 'b' names lease 5 in its record but the table holds it under lease 3: both sections
    // decode, the checksum is fixed up, only the cross-check can catch it.
    const h = new MachineHarness();
    h.write(grant(3, 1000));
    h.write(grant(5, 1000));
    h.write(putOn('b', 1, 5));
    const m = h.machine as unknown as { leases: { detach(k: string, id: number): boolean; attach(k: string, id: number): unknown } };
    m.leases.detach('b', 5);
    m.leases.attach('b', 3);
    const corrupt = referenceSnapshot(h.machine);
    const target = new KvStateMachine();
    await expect(target.restore(corrupt, meta(h.index))).rejects.toMatchObject({
      code: KvErrorCode.SnapshotCorrupt,
      message: expect.stringContaining('names lease 5'),
    });
    expect(target.revision).toBe(0);
    // A key attached in the table but naming no lease is caught by the count.
    m.leases.detach('b', 3);
    h.write(put('c', 1));
    m.leases.attach('c', 3);
    m.leases.attach('b', 5);
    await expect(target.restore(referenceSnapshot(h.machine), meta(h.index))).rejects.toMatchObject({
      code: KvErrorCode.SnapshotCorrupt,
      message: expect.stringContaining('holds 2 keys, but 1 key records'),
    });
  });

  test('a v2 snapshot (no lease section) still restores, with an empty table', async () => {
    const h = new MachineHarness();
    h.write(put('k', 'v'));
    const m = new KvStateMachine();
    await m.restore(referenceSnapshot(h.machine, 2), meta(1));
    expect(m.read('k')).toMatchObject({ modRevision: 1, lease: 0 });
    expect(m.leaseList()).toEqual([]);
  });
});
