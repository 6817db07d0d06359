import { describe, expect, test } from 'vitest';
import { KvClient, KvErrorCode, MAX_KEY_BYTES } from '../src/index.js';
import { FakeNode } from './helpers/fakeNode.js';

const INVALID = { code: KvErrorCode.InvalidArgument };

function setup(options: ConstructorParameters<typeof KvClient>[1] = {}) {
  const node = new FakeNode();
  const kv = new KvClient(node.replica(), options);
  return { node, kv };
}

describe('bad input is rejected with KV_INVALID_ARGUMENT before anything reaches the log', () => {
  const cases: [string, (kv: KvClient) => Promise<unknown>][] = [
    ['empty key', (kv) => kv.put('', 1)],
    ['non-string key', (kv) => kv.put(42 as unknown as string, 1)],
    ['key over 4 KiB', (kv) => kv.put('k'.repeat(MAX_KEY_BYTES + 1), 1)],
    ['key over 4 KiB in UTF-8 only', (kv) => kv.put('я'.repeat(MAX_KEY_BYTES / 2 + 1), 1)],
    ['key with a lone surrogate', (kv) => kv.put('a\ud800b', 1)],
    ['value over the configured limit', (kv) => kv.put('k', new Uint8Array(65))],
    ['JSON value over the configured limit', (kv) => kv.put('k', 'x'.repeat(64))],
    ['null value', (kv) => kv.put('k', null as never)],
    ['undefined value', (kv) => kv.put('k', undefined as never)],
    ['function value', (kv) => kv.put('k', (() => 1) as never)],
    ['NaN', (kv) => kv.put('k', Number.NaN)],
    ['Infinity nested', (kv) => kv.put('k', { a: [Infinity] })],
    ['bigint', (kv) => kv.put('k', 1n as never)],
    ['Date', (kv) => kv.put('k', new Date() as never)],
    ['Map', (kv) => kv.put('k', new Map() as never)],
    ['undefined inside an object', (kv) => kv.put('k', { a: undefined } as never)],
    ['cas with a bad expected value', (kv) => kv.cas('k', Number.NaN, 1)],
    ['cas with a bad key', (kv) => kv.cas('', null, 1)],
    ['delete with a bad key', (kv) => kv.delete('')],
    ['putMany with no entries', (kv) => kv.putMany([])],
    ['putMany that is not an array', (kv) => kv.putMany({} as never)],
    ['putMany with a malformed pair', (kv) => kv.putMany([['k'] as never])],
    ['putMany with a repeated key', (kv) => kv.putMany([['k', 1], ['k', 2]])],
    ['putMany over the batch limit', (kv) => kv.putMany([['a', 1], ['b', 2], ['c', 3], ['d', 4]])],
    ['bad consistency', (kv) => kv.get('k', { consistency: 'eventual' as never })],
    ['bad range limit', (kv) => kv.range('p', { limit: 0 })],
    ['fractional range limit', (kv) => kv.range('p', { limit: 1.5 })],
    ['non-string prefix', (kv) => kv.range(null as never)],
    ['non-object options', (kv) => kv.get('k', 'fast' as never)],
    ['negative timeout', (kv) => kv.put('k', 1, { timeoutMs: -1 })],
    ['explicit tag with seq 0', (kv) => kv.proposeWrite({ op: 'put', key: 'k', value: 1 }, { clientId: 1, seq: 0, firstOutstanding: 0 })],
    ['explicit tag with firstOutstanding past seq', (kv) => kv.proposeWrite({ op: 'put', key: 'k', value: 1 }, { clientId: 1, seq: 2, firstOutstanding: 3 })],
    ['unknown write op', (kv) => kv.proposeWrite({ op: 'increment', key: 'k' } as never, null)],
  ];

  test.each(cases)('%s', async (_name, call) => {
    const { node, kv } = setup({ maxValueBytes: 64, maxBatchEntries: 3 });
    await expect(call(kv)).rejects.toMatchObject(INVALID);
    expect(node.proposals).toHaveLength(0);
    expect(node.reads).toHaveLength(0);
  });

  test('bad client options are rejected at construction', () => {
    const node = new FakeNode();
    expect(() => new KvClient(node.replica(), { consistency: 'strong' as never })).toThrow(expect.objectContaining(INVALID));
    expect(() => new KvClient(node.replica(), { maxValueBytes: 0 })).toThrow(expect.objectContaining(INVALID));
    expect(() => new KvClient([], {})).toThrow(expect.objectContaining(INVALID));
  });

  test('a key of exactly 4 KiB and a value at the limit are accepted', async () => {
    const { node, kv } = setup({ maxValueBytes: 64 });
    await kv.put('k'.repeat(MAX_KEY_BYTES), new Uint8Array(64));
    expect(node.machine.size).toBe(1);
  });

  test('a lease read on a node not known to run check-quorum is refused with KV_LEASE_UNAVAILABLE', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica(false));
    await expect(kv.get('k', { consistency: 'lease' })).rejects.toMatchObject({ code: KvErrorCode.LeaseUnavailable });
    expect(node.reads).toHaveLength(0);
    const withQuorum = new KvClient(node.replica(true));
    await withQuorum.get('k', { consistency: 'lease' });
    expect(node.reads).toEqual([{ timeoutMs: 2000, lease: true }]);
  });
});
