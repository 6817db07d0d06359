import { describe, expect, test } from 'vitest';
import { snapshotBytes } from '@raftkit/core';
import { KvErrorCode, KvStateMachine } from '../src/index.js';
import { MachineHarness, put, snapshotHex, tag } from './helpers/machine.js';
import { workload } from './helpers/workload.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const meta = (index: number) => ({ index, term: 1, voters: ['a'] });

describe('snapshots', () => {
  test.each([1, 2, 3, 4, 5])('machines that applied the same commands have byte-identical snapshots (seed %i)', async (seed) => {
    const cmds = workload(seed, 300);
    const a = new MachineHarness({ sessionTtlMs: 5_000 });
    const b = new MachineHarness({ sessionTtlMs: 5_000 });
    for (const c of cmds) expect(b.apply(c)).toEqual(a.apply(c));
    expect((await snapshotHex(b.machine))).toBe((await snapshotHex(a.machine)));
    expect(a.machine.size).toBeGreaterThan(3);
  });

  test.each([1, 2, 3])('a restored machine behaves exactly like the original, dedupe and expiry included (seed %i)', async (seed) => {
    const cmds = workload(seed + 100, 400);
    const original = new MachineHarness({ sessionTtlMs: 5_000 });
    for (const c of cmds.slice(0, 200)) original.apply(c);
    const restored = new MachineHarness({ sessionTtlMs: 5_000 });
    await restored.machine.restore(original.machine.snapshot(), meta(original.index));
    restored.index = original.index;
    expect((await snapshotHex(restored.machine))).toBe((await snapshotHex(original.machine)));
    let replays = 0;
    for (const c of cmds.slice(200)) {
      const want = original.apply(c);
      expect(restored.apply(c)).toEqual(want);
      if (want.revision < original.index) replays++;
    }
    expect(replays).toBeGreaterThan(0); // some duplicates were answered from the restored cache
    expect((await snapshotHex(restored.machine))).toBe((await snapshotHex(original.machine)));
  });

  test('a duplicate after restore replays the cached result', async () => {
    const h = new MachineHarness();
    const id = h.register();
    const first = h.write(put('k', 'v'), tag(id, 1));
    const r = new MachineHarness();
    await r.machine.restore(h.machine.snapshot(), meta(h.index));
    r.index = h.index;
    h.write(put('k', 'other'));
    r.write(put('k', 'other'));
    expect(r.write(put('k', 'v'), tag(id, 1))).toEqual(first);
    expect(r.value('k')).toBe('"other"');
  });

  test('restore at an index past trailing no-op entries keeps the machine\'s own revision', async () => {
    const h = new MachineHarness();
    h.write(put('k', 1));
    const m = new KvStateMachine();
    await m.restore(h.machine.snapshot(), meta(5));
    expect(m.revision).toBe(1);
    expect((await snapshotHex(m))).toBe((await snapshotHex(h.machine)));
    m.apply({ index: 6, term: 1, data: h.log[0]!.data });
    expect(m.read('k')?.modRevision).toBe(6);
  });

  test('the v3 layout is stable (golden bytes)', async () => {
    const h = new MachineHarness();
    h.stamp = 1000;
    const id = h.register();
    h.write(put('k', 'v'), tag(id, 1));
    // RKKV v3 | index 2 | clock 1000 | 1 session: id 1, seen 1000, first 1, 1 result: seq 1 put@2
    // | 1 key: "k" mod 2 create 2 version 1 lease 0 json "\"v\"" | 0 leases | crc32
    const want = '524b4b5603' + '02' + 'e807' + '01' + '01e8070101' + '010102' + '01' + '016b' + '02' + '02' + '01' + '00' + '0103227622' + '00';
    expect((await snapshotHex(h.machine)).slice(0, -8)).toBe(want);
  });

  test('an empty machine round-trips', async () => {
    const m = new KvStateMachine();
    const other = new KvStateMachine();
    await other.restore(m.snapshot(), meta(0));
    expect((await snapshotHex(other))).toBe((await snapshotHex(m)));
  });

  describe('a damaged snapshot fails restore with KV_SNAPSHOT_CORRUPT and changes nothing', () => {
    const flip = (good: Uint8Array): Uint8Array => {
      const out = good.slice();
      out[12]! ^= 0x40;
      return out;
    };
    const cases: [string, (good: Uint8Array) => Uint8Array][] = [
      ['a flipped bit', flip],
      ['truncation', (good) => good.subarray(0, good.length - 3)],
      ['bad magic', (good) => new Uint8Array([0, ...good.subarray(1)])],
      ['an unknown version', (good) => new Uint8Array([...good.subarray(0, 4), 4, ...good.subarray(5)])],
      ['garbage', () => new Uint8Array([1, 2, 3])],
    ];
    test.each(cases)('%s', async (_name, damage) => {
      const h = new MachineHarness();
      h.register();
      h.write(put('a', 'x'), tag(1, 1));
      h.write(put('b', 'y'));
      const good = await snapshotBytes(h.machine.snapshot());
      const m = new KvStateMachine();
      await m.restore(good, meta(3));
      await expect(m.restore(damage(good), meta(3))).rejects.toMatchObject({ code: KvErrorCode.SnapshotCorrupt });
      expect(await snapshotHex(m)).toBe(hex(good));
    });
  });
});
