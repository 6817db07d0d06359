import { describe, expect, test } from 'vitest';
import { decodeCommand, encodeCommand, KvClient, KvStateMachine, type TxnCompare, type TxnRequest } from '../src/index.js';
import { FakeNode } from './helpers/fakeNode.js';

function setup() {
  const node = new FakeNode();
  const kv = new KvClient(node.replica());
  return { node, kv };
}

/** A txn whose outcome tells which branch ran: success puts 'then', failure puts 'else'. */
const probe = (...compare: TxnCompare[]): TxnRequest => ({
  compare,
  success: [{ op: 'put', key: 'branch', value: 'then' }],
  failure: [{ op: 'put', key: 'branch', value: 'else' }],
});

/** Index 1 registers the session; 'k' is created at 2 and overwritten at 3 (version 2). */
async function withHistory() {
  const s = setup();
  await s.kv.put('k', 'v1');
  await s.kv.put('k', 'v2');
  return s;
}

describe('compares', () => {
  // [compare, whether it holds] against k = "v2", createRevision 2, modRevision 3, version 2.
  const cases: [string, TxnCompare, boolean][] = [
    ['value == current', { key: 'k', target: 'value', op: '==', value: 'v2' }, true],
    ['value == other', { key: 'k', target: 'value', op: '==', value: 'v1' }, false],
    ['value != other', { key: 'k', target: 'value', op: '!=', value: 'v1' }, true],
    ['value != current', { key: 'k', target: 'value', op: '!=', value: 'v2' }, false],
    ['value == on an absent key', { key: 'none', target: 'value', op: '==', value: 'v2' }, false],
    ['value != on an absent key', { key: 'none', target: 'value', op: '!=', value: 'v2' }, true],
    ['exists true', { key: 'k', target: 'exists', exists: true }, true],
    ['exists false on a present key', { key: 'k', target: 'exists', exists: false }, false],
    ['exists false on an absent key', { key: 'none', target: 'exists', exists: false }, true],
    ['modRevision ==', { key: 'k', target: 'modRevision', op: '==', value: 3 }, true],
    ['modRevision !=', { key: 'k', target: 'modRevision', op: '!=', value: 3 }, false],
    ['modRevision <', { key: 'k', target: 'modRevision', op: '<', value: 4 }, true],
    ['modRevision < (equal)', { key: 'k', target: 'modRevision', op: '<', value: 3 }, false],
    ['modRevision >', { key: 'k', target: 'modRevision', op: '>', value: 2 }, true],
    ['modRevision > (equal)', { key: 'k', target: 'modRevision', op: '>', value: 3 }, false],
    ['createRevision ==', { key: 'k', target: 'createRevision', op: '==', value: 2 }, true],
    ['createRevision !=', { key: 'k', target: 'createRevision', op: '!=', value: 3 }, true],
    ['createRevision <', { key: 'k', target: 'createRevision', op: '<', value: 2 }, false],
    ['createRevision >', { key: 'k', target: 'createRevision', op: '>', value: 1 }, true],
    ['version ==', { key: 'k', target: 'version', op: '==', value: 2 }, true],
    ['version !=', { key: 'k', target: 'version', op: '!=', value: 2 }, false],
    ['version <', { key: 'k', target: 'version', op: '<', value: 3 }, true],
    ['version >', { key: 'k', target: 'version', op: '>', value: 2 }, false],
    ['absent key: createRevision == 0', { key: 'none', target: 'createRevision', op: '==', value: 0 }, true],
    ['absent key: modRevision == 0', { key: 'none', target: 'modRevision', op: '==', value: 0 }, true],
    ['absent key: version == 0', { key: 'none', target: 'version', op: '==', value: 0 }, true],
    ['absent key: version > 0', { key: 'none', target: 'version', op: '>', value: 0 }, false],
  ];
  test.each(cases)('%s', async (_name, compare, holds) => {
    const { kv } = await withHistory();
    const r = await kv.txn(probe(compare));
    expect(r).toEqual({ revision: 4, succeeded: holds, results: [{ op: 'put' }] });
    expect((await kv.get('branch')).value).toBe(holds ? 'then' : 'else');
  });

  test('compares are ANDed; none at all succeeds', async () => {
    const { kv } = await withHistory();
    const t = { key: 'k', target: 'exists', exists: true } as const;
    const f = { key: 'k', target: 'version', op: '==', value: 9 } as const;
    expect((await kv.txn(probe(t, t))).succeeded).toBe(true);
    expect((await kv.txn(probe(t, f))).succeeded).toBe(false);
    expect((await kv.txn(probe(f, t))).succeeded).toBe(false);
    expect((await kv.txn(probe())).succeeded).toBe(true);
  });

  test('compares see the state before the txn, not its own writes', async () => {
    const { kv } = setup();
    const r = await kv.txn({
      compare: [{ key: 'a', target: 'exists', exists: false }],
      success: [{ op: 'put', key: 'a', value: 1 }],
      failure: [],
    });
    expect(r.succeeded).toBe(true);
    // The same txn again: now 'a' exists, so the (empty) failure branch runs.
    expect(await kv.txn({ compare: [{ key: 'a', target: 'exists', exists: false }], success: [{ op: 'put', key: 'a', value: 2 }], failure: [] })).toEqual({
      revision: 3,
      succeeded: false,
      results: [],
    });
    expect((await kv.get('a')).value).toBe(1);
  });
});

describe('ops', () => {
  test('every op kind, in order, at one revision; get and range see earlier ops of the txn', async () => {
    const { kv } = setup();
    await kv.putMany([['p/old', 'o'], ['gone', 'g']]); // revision 2
    const r = await kv.txn({
      compare: [],
      success: [
        { op: 'get', key: 'p/new' },
        { op: 'put', key: 'p/new', value: { n: 1 } },
        { op: 'get', key: 'p/new' },
        { op: 'delete', key: 'gone' },
        { op: 'delete', key: 'never' },
        { op: 'get', key: 'gone' },
        { op: 'range', prefix: 'p/' },
        { op: 'range', prefix: '', limit: 1 },
      ],
      failure: [],
    });
    expect(r).toEqual({
      revision: 3,
      succeeded: true,
      results: [
        { op: 'get', value: null, modRevision: null, createRevision: null, version: 0 },
        { op: 'put' },
        { op: 'get', value: { n: 1 }, modRevision: 3, createRevision: 3, version: 1 },
        { op: 'delete', deleted: true },
        { op: 'delete', deleted: false },
        { op: 'get', value: null, modRevision: null, createRevision: null, version: 0 },
        {
          op: 'range',
          more: false,
          entries: [
            { key: 'p/new', value: { n: 1 }, modRevision: 3, createRevision: 3, version: 1 },
            { key: 'p/old', value: 'o', modRevision: 2, createRevision: 2, version: 1 },
          ],
        },
        { op: 'range', more: true, entries: [{ key: 'p/new', value: { n: 1 }, modRevision: 3, createRevision: 3, version: 1 }] },
      ],
    });
    expect((await kv.get('gone')).value).toBeNull();
  });

  test('the failure branch runs its own ops, and the success branch none of its', async () => {
    const { kv } = setup();
    const r = await kv.txn({
      compare: [{ key: 'x', target: 'exists', exists: true }],
      success: [{ op: 'put', key: 's', value: 1 }],
      failure: [{ op: 'put', key: 'f', value: 2 }, { op: 'get', key: 'f' }],
    });
    expect(r.succeeded).toBe(false);
    expect(r.results).toEqual([{ op: 'put' }, { op: 'get', value: 2, modRevision: 2, createRevision: 2, version: 1 }]);
    expect((await kv.get('s')).value).toBeNull();
  });

  test('bytes values round-trip through compares and results', async () => {
    const { kv } = setup();
    await kv.put('b', new Uint8Array([1, 2]));
    const r = await kv.txn({
      compare: [{ key: 'b', target: 'value', op: '==', value: new Uint8Array([1, 2]) }],
      success: [{ op: 'get', key: 'b' }],
      failure: [],
    });
    expect(r.results).toEqual([{ op: 'get', value: new Uint8Array([1, 2]), modRevision: 2, createRevision: 2, version: 1 }]);
  });

  test('a put with a lease stores it in the key record (0 without)', async () => {
    const { kv, node } = setup();
    await kv.grantLease(60_000, { id: 77 });
    await kv.txn({ compare: [], success: [{ op: 'put', key: 'l', value: 1, lease: 77 }, { op: 'put', key: 'n', value: 1 }], failure: [] });
    expect(node.machine.read('l')?.lease).toBe(77);
    expect(node.machine.read('n')?.lease).toBe(0);
    await kv.put('l', 2);
    expect(node.machine.read('l')?.lease).toBe(0);
  });
});

describe('key records', () => {
  test('createRevision and version across create, overwrite, delete and recreate', async () => {
    const { kv, node } = setup();
    const rec = () => {
      const r = node.machine.read('k');
      return r && { modRevision: r.modRevision, createRevision: r.createRevision, version: r.version, lease: r.lease };
    };
    await kv.put('k', 1); // 2
    expect(rec()).toEqual({ modRevision: 2, createRevision: 2, version: 1, lease: 0 });
    await kv.cas('k', 1, 2); // 3
    await kv.putMany([['k', 3], ['other', 0]]); // 4
    expect(rec()).toEqual({ modRevision: 4, createRevision: 2, version: 3, lease: 0 });
    await kv.delete('k'); // 5
    expect(rec()).toBeUndefined();
    await kv.txn({ compare: [], success: [{ op: 'put', key: 'k', value: 4 }], failure: [] }); // 6
    expect(rec()).toEqual({ modRevision: 6, createRevision: 6, version: 1, lease: 0 });
    expect(await kv.get('k')).toEqual({ revision: 6, value: 4, modRevision: 6, createRevision: 6, version: 1 });
  });

  test('a failed cas changes neither version nor modRevision', async () => {
    const { kv, node } = setup();
    await kv.put('k', 1);
    expect((await kv.cas('k', 9, 2)).ok).toBe(false);
    expect(node.machine.read('k')).toMatchObject({ modRevision: 2, version: 1 });
  });
});

describe('exactly once', () => {
  test('a replayed txn returns its cached result (get and range included) and runs once', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    await kv.put('k', 'v');
    const request: TxnRequest = {
      compare: [{ key: 'k', target: 'version', op: '==', value: 1 }],
      success: [{ op: 'put', key: 'k', value: 'w' }, { op: 'get', key: 'k' }, { op: 'range', prefix: 'k' }],
      failure: [{ op: 'get', key: 'k' }],
    };
    const tag = { clientId: 1, seq: 5, firstOutstanding: 5 };
    const first = await kv.proposeWrite({ op: 'txn', ...request }, tag);
    const again = await kv.proposeWrite({ op: 'txn', ...request }, tag);
    expect(first.succeeded).toBe(true);
    expect(again).toEqual(first);
    expect(node.machine.read('k')).toMatchObject({ version: 2, modRevision: first.revision });

    // The cached result survives a snapshot: a restored replica replays it identically.
    const restored = new KvStateMachine();
    await restored.restore(node.machine.snapshot(), { index: node.machine.revision, term: 1, voters: ['solo'] });
    const replay = restored.apply({ index: node.machine.revision + 1, term: 1, data: node.proposals[node.proposals.length - 1]! });
    expect(replay).toEqual(node.machine.apply({ index: node.machine.revision + 1, term: 1, data: node.proposals[node.proposals.length - 1]! }));
    expect(replay).toMatchObject({ type: 'txn', revision: first.revision, succeeded: true });
  });

  test('a txn command encodes and decodes to the same command', () => {
    const cmd = {
      type: 'write',
      stamp: 7,
      session: null,
      write: {
        op: 'txn',
        compare: [{ key: 'a', target: 'createRevision', op: '>', value: 300 }],
        success: [{ op: 'range', prefix: '', limit: 1000 }, { op: 'put', key: 'a', value: { kind: 1, data: new Uint8Array([0x31]) }, lease: 5 }],
        failure: [{ op: 'delete', key: 'a' }],
      },
    } as const;
    const bytes = encodeCommand(cmd);
    expect(decodeCommand(bytes)).toEqual(cmd);
    expect(encodeCommand(decodeCommand(bytes) as typeof cmd)).toEqual(bytes);
  });
});
