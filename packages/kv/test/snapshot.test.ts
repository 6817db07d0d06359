import { describe, expect, test } from 'vitest';
import { seededRandom } from '@raftkit/core';
import { KvErrorCode, KvStateMachine, type KvCommand } from '../src/index.js';
import { MachineHarness, cas, del, put, putMany, tag } from './helpers/machine.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const meta = (index: number) => ({ index, term: 1, voters: ['a'] });

/** A seeded mix of everything the machine does: sessions, retries, acks, expiry, all commands. */
function workload(seed: number, n: number): KvCommand[] {
  const rand = seededRandom(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const keys = ['a', 'b', 'b/1', 'b/2', 'ключ', '🔑', 'z'];
  const values = ['x', 42, { nested: [1, 2] }, new Uint8Array([1, 2, 3]), true];
  const cmds: KvCommand[] = [];
  const sessions: { id: number; seq: number; acked: number }[] = [];
  let stamp = 0;
  for (let i = 0; i < n; i++) {
    stamp += Math.floor(rand() * 400);
    const r = rand();
    if (r < 0.1 || sessions.length === 0) {
      cmds.push({ type: 'registerSession', stamp });
      sessions.push({ id: i + 1, seq: 0, acked: 1 });
      continue;
    }
    const s = pick(sessions);
    const retry = rand() < 0.2 && s.seq > 0;
    const seq = retry ? Math.max(s.acked, s.seq - Math.floor(rand() * 3)) : ++s.seq;
    if (rand() < 0.3) s.acked = Math.min(seq, s.acked + 1);
    const write = pick([
      () => put(pick(keys), pick(values)),
      () => del(pick(keys)),
      () => cas(pick(keys), rand() < 0.5 ? null : pick(values), pick(values)),
      () => putMany([pick(keys.slice(0, 3)), pick(values)], [pick(keys.slice(3)), pick(values)]),
    ])();
    cmds.push({ type: 'write', stamp, session: rand() < 0.1 ? null : tag(s.id, seq, Math.min(seq, s.acked)), write });
  }
  return cmds;
}

describe('snapshots', () => {
  test.each([1, 2, 3, 4, 5])('machines that applied the same commands have byte-identical snapshots (seed %i)', (seed) => {
    const cmds = workload(seed, 300);
    const a = new MachineHarness({ sessionTtlMs: 5_000 });
    const b = new MachineHarness({ sessionTtlMs: 5_000 });
    for (const c of cmds) expect(b.apply(c)).toEqual(a.apply(c));
    expect(hex(b.machine.snapshot())).toBe(hex(a.machine.snapshot()));
    expect(a.machine.size).toBeGreaterThan(3);
  });

  test.each([1, 2, 3])('a restored machine behaves exactly like the original, dedupe and expiry included (seed %i)', (seed) => {
    const cmds = workload(seed + 100, 400);
    const original = new MachineHarness({ sessionTtlMs: 5_000 });
    for (const c of cmds.slice(0, 200)) original.apply(c);
    const restored = new MachineHarness({ sessionTtlMs: 5_000 });
    restored.machine.restore(original.machine.snapshot(), meta(original.index));
    restored.index = original.index;
    expect(hex(restored.machine.snapshot())).toBe(hex(original.machine.snapshot()));
    let replays = 0;
    for (const c of cmds.slice(200)) {
      const want = original.apply(c);
      expect(restored.apply(c)).toEqual(want);
      if (want.revision < original.index) replays++;
    }
    expect(replays).toBeGreaterThan(0); // some duplicates were answered from the restored cache
    expect(hex(restored.machine.snapshot())).toBe(hex(original.machine.snapshot()));
  });

  test('a duplicate after restore replays the cached result', () => {
    const h = new MachineHarness();
    const id = h.register();
    const first = h.write(put('k', 'v'), tag(id, 1));
    const r = new MachineHarness();
    r.machine.restore(h.machine.snapshot(), meta(h.index));
    r.index = h.index;
    h.write(put('k', 'other'));
    r.write(put('k', 'other'));
    expect(r.write(put('k', 'v'), tag(id, 1))).toEqual(first);
    expect(r.value('k')).toBe('"other"');
  });

  test('restore at an index past trailing no-op entries keeps the machine\'s own revision', () => {
    const h = new MachineHarness();
    h.write(put('k', 1));
    const m = new KvStateMachine();
    m.restore(h.machine.snapshot(), meta(5));
    expect(m.revision).toBe(1);
    expect(hex(m.snapshot())).toBe(hex(h.machine.snapshot()));
    m.apply({ index: 6, term: 1, data: h.log[0]!.data });
    expect(m.read('k')?.modRevision).toBe(6);
  });

  test('the v1 layout is stable (golden bytes)', () => {
    const h = new MachineHarness();
    h.stamp = 1000;
    const id = h.register();
    h.write(put('k', 'v'), tag(id, 1));
    // RKKV v1 | index 2 | clock 1000 | 1 session: id 1, seen 1000, first 1, 1 result: seq 1 put@2
    // | 1 key: "k" mod 2 json "\"v\"" | crc32
    const want = '524b4b5601' + '02' + 'e807' + '01' + '01e8070101' + '010102' + '01' + '016b' + '02' + '0103227622';
    expect(hex(h.machine.snapshot()).slice(0, -8)).toBe(want);
  });

  test('an empty machine round-trips', () => {
    const m = new KvStateMachine();
    const other = new KvStateMachine();
    other.restore(m.snapshot(), meta(0));
    expect(hex(other.snapshot())).toBe(hex(m.snapshot()));
  });

  describe('a damaged snapshot fails restore with KV_SNAPSHOT_CORRUPT and changes nothing', () => {
    const h = new MachineHarness();
    h.register();
    h.write(put('a', 'x'), tag(1, 1));
    h.write(put('b', 'y'));
    const good = h.machine.snapshot();
    const flipped = good.slice();
    flipped[12] ^= 0x40;
    const cases: [string, Uint8Array][] = [
      ['a flipped bit', flipped],
      ['truncation', good.subarray(0, good.length - 3)],
      ['bad magic', new Uint8Array([0, ...good.subarray(1)])],
      ['an unknown version', new Uint8Array([...good.subarray(0, 4), 2, ...good.subarray(5)])],
      ['garbage', new Uint8Array([1, 2, 3])],
    ];
    test.each(cases)('%s', (_name, data) => {
      const m = new KvStateMachine();
      m.restore(good, meta(3));
      expect(() => m.restore(data, meta(3))).toThrow(expect.objectContaining({ code: KvErrorCode.SnapshotCorrupt }));
      expect(hex(m.snapshot())).toBe(hex(good));
    });
  });
});
