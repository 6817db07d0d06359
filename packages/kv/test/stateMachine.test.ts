import { describe, expect, test } from 'vitest';
import { encodeCommand, KvErrorCode, KvStateMachine, MAX_KEY_BYTES } from '../src/index.js';
import { Writer } from '../src/codec/binary.js';
import { MachineHarness, cas, del, put, putMany, text, val } from './helpers/machine.js';

describe('KvStateMachine commands', () => {
  test('put stores the value at the entry index, which becomes the key\'s modRevision', () => {
    const h = new MachineHarness();
    expect(h.write(put('a', 'one'))).toEqual({ type: 'put', revision: 1 });
    expect(h.write(put('a', 'two'))).toEqual({ type: 'put', revision: 2 });
    expect(h.value('a')).toBe('"two"');
    expect(h.machine.read('a')?.modRevision).toBe(2);
    expect(h.machine.revision).toBe(2);
  });

  test('bytes and JSON are stored with their kind', () => {
    const h = new MachineHarness();
    h.write(put('bin', new Uint8Array([0, 255])));
    h.write(put('obj', { n: 1, list: [true, 'x'] }));
    expect(h.machine.read('bin')?.value).toEqual({ kind: 0, data: new Uint8Array([0, 255]) });
    expect(h.machine.read('obj')?.value.kind).toBe(1);
    expect(h.value('obj')).toBe('{"n":1,"list":[true,"x"]}');
  });

  test('delete reports whether the key existed', () => {
    const h = new MachineHarness();
    h.write(put('a', 1));
    expect(h.write(del('a'))).toEqual({ type: 'delete', revision: 2, deleted: true });
    expect(h.write(del('a'))).toEqual({ type: 'delete', revision: 3, deleted: false });
    expect(h.machine.read('a')).toBeUndefined();
  });

  test('cas with "expected absent" succeeds only while the key is absent', () => {
    const h = new MachineHarness();
    expect(h.write(cas('lock', null, 'me'))).toEqual({ type: 'cas', revision: 1, ok: true });
    const second = h.write(cas('lock', null, 'you'));
    expect(second).toMatchObject({ type: 'cas', revision: 2, ok: false });
    expect(second.type === 'cas' && text(second.current)).toBe('"me"');
    expect(h.value('lock')).toBe('"me"');
    expect(h.machine.read('lock')?.modRevision).toBe(1);
  });

  test('cas compares kind and bytes and reports the current value on failure', () => {
    const h = new MachineHarness();
    h.write(put('k', 'v1'));
    expect(h.write(cas('k', 'v1', 'v2'))).toEqual({ type: 'cas', revision: 2, ok: true });
    const stale = h.write(cas('k', 'v1', 'v3'));
    expect(stale.type === 'cas' && !stale.ok && text(stale.current)).toBe('"v2"');
    // The same bytes as raw bytes are a different value from the JSON string.
    const asBytes = h.write(cas('k', new TextEncoder().encode('"v2"'), 'v4'));
    expect(asBytes).toMatchObject({ ok: false });
    const onAbsent = h.write(cas('missing', 'x', 'y'));
    expect(onAbsent).toEqual({ type: 'cas', revision: 5, ok: false, current: null });
  });

  test('putMany writes every key at one revision', () => {
    const h = new MachineHarness();
    expect(h.write(putMany(['x', 1], ['y', 2], ['z', 3]))).toEqual({ type: 'putMany', revision: 1, count: 3 });
    expect(['x', 'y', 'z'].map((k) => h.machine.read(k)?.modRevision)).toEqual([1, 1, 1]);
  });

  test('range returns keys with the prefix in key order, up to the limit', () => {
    const h = new MachineHarness();
    for (const k of ['b/2', 'a/1', 'b/1', 'b/10', 'c', 'b']) h.write(put(k, k));
    const keys = (prefix: string, limit: number) => {
      const r = h.machine.readRange(prefix, limit);
      return { keys: r.entries.map(([k]) => k), more: r.more };
    };
    expect(keys('b/', 10)).toEqual({ keys: ['b/1', 'b/10', 'b/2'], more: false });
    expect(keys('b/', 2)).toEqual({ keys: ['b/1', 'b/10'], more: true });
    expect(keys('b/', 3)).toEqual({ keys: ['b/1', 'b/10', 'b/2'], more: false });
    expect(keys('', 100).keys).toEqual(['a/1', 'b', 'b/1', 'b/10', 'b/2', 'c']);
    expect(keys('zz', 5)).toEqual({ keys: [], more: false });
    h.write(del('b/10'));
    expect(keys('b/', 10).keys).toEqual(['b/1', 'b/2']);
  });

  test('the log clock is the largest stamp seen and never goes back', () => {
    const h = new MachineHarness();
    h.stamp = 500;
    h.write(put('a', 1));
    h.stamp = 200; // a proposer with a slower clock
    h.write(put('a', 2));
    expect(h.machine.logClock).toBe(500);
  });

  test('an entry index that does not increase is a broken invariant (thrown, fatal)', () => {
    const m = new KvStateMachine();
    const data = encodeCommand({ type: 'write', stamp: 0, session: null, write: put('a', 1) });
    m.apply({ index: 5, term: 1, data });
    expect(() => m.apply({ index: 5, term: 1, data })).toThrow(/invariant/);
  });
});

describe('KvStateMachine with undecodable entries', () => {
  const garbage: [string, Uint8Array][] = [
    ['empty', new Uint8Array()],
    ['unknown version', new Uint8Array([9, 4, 0])],
    ['unknown kind', new Uint8Array([1, 99, 0])],
    ['truncated put', encodeCommand({ type: 'write', stamp: 7, session: null, write: put('key', 'value') }).subarray(0, 8)],
    ['trailing bytes', new Uint8Array([...encodeCommand({ type: 'registerSession', stamp: 0 }), 0])],
    ['firstOutstanding past seq', new Writer().u8(1).u8(4).varint(0).varint(3).varint(2).varint(5).string('k').u8(1).string('1').finish()],
    ['empty key', new Writer().u8(1).u8(5).varint(0).varint(0).string('').finish()],
    ['key over the limit', new Writer().u8(1).u8(5).varint(0).varint(0).string('k'.repeat(MAX_KEY_BYTES + 1)).finish()],
    ['invalid UTF-8 key', new Writer().u8(1).u8(5).varint(0).varint(0).bytes(new Uint8Array([0xff, 0xfe])).finish()],
    ['putMany count beyond the data', new Writer().u8(1).u8(7).varint(0).varint(0).varint(1_000_000).finish()],
    ['unknown value kind', new Writer().u8(1).u8(4).varint(0).varint(0).string('k').u8(7).string('x').finish()],
    ['keepAlive for session 0', new Uint8Array([1, 2, 0, 0])],
  ];

  test.each(garbage)('%s: returns KV_BAD_COMMAND without throwing or changing state', (_name, data) => {
    const h = new MachineHarness();
    h.write(put('k', 'kept'));
    const r = h.applyRaw(data);
    expect(r).toMatchObject({ type: 'error', code: KvErrorCode.BadCommand, revision: 2 });
    expect(h.value('k')).toBe('"kept"');
    expect([h.machine.size, h.machine.sessionCount, h.machine.logClock, h.machine.revision]).toEqual([1, 0, 0, 2]);
    expect(h.write(put('z', 1))).toEqual({ type: 'put', revision: 3 });
  });

  test('a value stored from a hand-made command keeps its bytes exactly', () => {
    const h = new MachineHarness();
    h.write({ op: 'put', key: 'weird', value: { kind: 1, data: new Uint8Array([0x7b]) } });
    expect(h.machine.read('weird')?.value).toEqual({ kind: 1, data: new Uint8Array([0x7b]) });
    expect(val('x').data).toEqual(new TextEncoder().encode('"x"'));
  });
});
