import { describe, expect, test } from 'vitest';
import type { ChangeSink, KvChange } from '../src/index.js';
import { cas, del, MachineHarness, put, putMany, tag, text, val } from './helpers/machine.js';

/** Records what a sink is told, with values as text and records as plain numbers. */
function recorder() {
  const seen: (string | [number, unknown[]])[] = [];
  const brief = (r: KvChange['record']) => r && { value: text(r.value), mod: r.modRevision, create: r.createRevision, version: r.version, lease: r.lease };
  const sink: ChangeSink = {
    applied: (revision, changes) => seen.push([revision, changes.map((c) => ({ type: c.type, key: c.key, record: brief(c.record), prev: brief(c.prev) }))]),
    restored: (revision) => seen.push(`restored ${revision}`),
  };
  return { seen, sink };
}

describe('KvStateMachine.subscribeChanges', () => {
  test('reports every write that changed keys, with prev records, in op order', () => {
    const h = new MachineHarness();
    const { seen, sink } = recorder();
    h.write({ op: 'leaseGrant', id: 9, ttlMs: 60_000 }); // 1: no key changes, before subscribing
    h.machine.subscribeChanges(sink);
    h.write(put('a', 1)); // 2
    h.write(put('a', 2)); // 3
    h.write(del('a')); // 4
    h.write(cas('b', null, 'x')); // 5
    h.write(putMany(['b', 'y'], ['c', 'z'])); // 6
    h.write({
      op: 'txn',
      compare: [],
      success: [
        { op: 'delete', key: 'c' },
        { op: 'get', key: 'b' },
        { op: 'put', key: 'd', value: val(1), lease: 9 },
      ],
      failure: [],
    }); // 7
    const rec = (value: string, mod: number, create: number, version: number, lease = 0) => ({ value, mod, create, version, lease });
    expect(seen).toEqual([
      [2, [{ type: 'put', key: 'a', record: rec('1', 2, 2, 1), prev: undefined }]],
      [3, [{ type: 'put', key: 'a', record: rec('2', 3, 2, 2), prev: rec('1', 2, 2, 1) }]],
      [4, [{ type: 'delete', key: 'a', record: undefined, prev: rec('2', 3, 2, 2) }]],
      [5, [{ type: 'put', key: 'b', record: rec('"x"', 5, 5, 1), prev: undefined }]],
      [
        6,
        [
          { type: 'put', key: 'b', record: rec('"y"', 6, 5, 2), prev: rec('"x"', 5, 5, 1) },
          { type: 'put', key: 'c', record: rec('"z"', 6, 6, 1), prev: undefined },
        ],
      ],
      [
        7,
        [
          { type: 'delete', key: 'c', record: undefined, prev: rec('"z"', 6, 6, 1) },
          { type: 'put', key: 'd', record: rec('1', 7, 7, 1, 9), prev: undefined },
        ],
      ],
    ]);
  });

  test('reports nothing for entries that changed no key', () => {
    const h = new MachineHarness();
    const id = h.register();
    const { seen, sink } = recorder();
    h.machine.subscribeChanges(sink);
    h.write(del('absent'));
    h.write(cas('absent', 'x', 'y'));
    h.write({ op: 'txn', compare: [], success: [{ op: 'get', key: 'absent' }, { op: 'delete', key: 'absent' }], failure: [] });
    h.applyRaw(new Uint8Array([0xee, 9, 9])); // not a command
    expect(seen).toEqual([]);
    h.write(put('k', 1), tag(id, 1));
    h.write(put('k', 1), tag(id, 1)); // a replayed duplicate: cached result, no change
    expect(seen).toEqual([[6, [expect.objectContaining({ type: 'put', key: 'k' })]]]);
  });

  test('reports a restore with its revision, and stops after unsubscribing', async () => {
    const source = new MachineHarness();
    source.write(put('a', 1));
    source.write(put('b', 2));
    const h = new MachineHarness();
    const { seen, sink } = recorder();
    const unsubscribe = h.machine.subscribeChanges(sink);
    await h.machine.restore(source.machine.snapshot(), { index: 2, term: 1, voters: ['a'] });
    expect(seen).toEqual(['restored 2']);
    unsubscribe();
    h.index = 2;
    h.write(put('c', 3));
    expect(seen).toEqual(['restored 2']);
    expect(h.value('c')).toBe('3');
  });
});
