import { snapshotBytes } from '@raftkit/core';
import { describe, expect, test } from 'vitest';
import { KvStateMachine, SNAPSHOT_VERSION } from '../src/index.js';
import { referenceSnapshot } from './helpers/referenceSnapshot.js';
import { del, MachineHarness, put, snapshotHex, tag, val } from './helpers/machine.js';

const meta = (index: number) => ({ index, term: 1, voters: ['a'] });

/** Keys with history (overwritten, deleted and recreated, leased) and a cached txn result. */
function machineWithHistory(): MachineHarness {
  const h = new MachineHarness();
  const id = h.register(); // 1
  h.write(put('a', 1)); // 2
  h.write(put('a', 2)); // 3
  h.write(put('b', 'x')); // 4
  h.write(del('b')); // 5
  h.write({ op: 'leaseGrant', id: 42, ttlMs: 60_000 }); // 6
  h.write({ op: 'put', key: 'b', value: val('y'), lease: 42 }); // 7
  h.write(
    {
      op: 'txn',
      compare: [{ key: 'a', target: 'version', op: '==', value: 2 }],
      success: [{ op: 'put', key: 'c', value: val([1]), lease: 0 }, { op: 'get', key: 'a' }, { op: 'range', prefix: '', limit: 2 }],
      failure: [],
    },
    tag(id, 1),
  ); // 8
  return h;
}

const chunked = async function* (bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
};

describe('snapshot format v2 and later', () => {
  test('records keep createRevision, version and lease, and cached txn results survive', async () => {
    const h = machineWithHistory();
    expect(SNAPSHOT_VERSION).toBe(3);
    const bytes = await snapshotBytes(h.machine.snapshot());
    expect(Buffer.from(bytes).equals(Buffer.from(referenceSnapshot(h.machine)))).toBe(true);
    const m = new KvStateMachine();
    // Cut into 3-byte chunks: every part (txn results included) is split somewhere.
    await m.restore(chunked(bytes, 3), meta(8));
    expect(await snapshotHex(m)).toBe(await snapshotHex(h.machine));
    expect(m.read('a')).toMatchObject({ modRevision: 3, createRevision: 2, version: 2, lease: 0 });
    expect(m.read('b')).toMatchObject({ modRevision: 7, createRevision: 7, version: 1, lease: 42 });
    expect(m.read('c')).toMatchObject({ modRevision: 8, createRevision: 8, version: 1, lease: 0 });
    // The duplicate of the txn replays the cached result on the restored machine too.
    const last = h.log[h.log.length - 1]!;
    const replay = m.apply({ index: 9, term: 1, data: last.data });
    expect(replay).toEqual(h.machine.apply({ index: 9, term: 1, data: last.data }));
    expect(replay).toMatchObject({ type: 'txn', revision: 8, succeeded: true });
    expect(m.read('c')?.version).toBe(1);
  });

  test('a v1 snapshot still decodes: createRevision = modRevision, version 1, lease 0', async () => {
    const h = machineWithHistory();
    const v1 = referenceSnapshot(h.machine, 1);
    expect(v1[4]).toBe(1);
    const m = new KvStateMachine();
    await m.restore(chunked(v1, 5), meta(8));
    expect(m.read('a')).toMatchObject({ modRevision: 3, createRevision: 3, version: 1, lease: 0 });
    expect(m.read('b')).toMatchObject({ modRevision: 7, createRevision: 7, version: 1, lease: 0 });
    expect(m.revision).toBe(8);
    expect(m.session(1)?.cached).toEqual([1]);
    // It is written back in the current format.
    expect((await snapshotBytes(m.snapshot()))[4]).toBe(SNAPSHOT_VERSION);
  });
});
