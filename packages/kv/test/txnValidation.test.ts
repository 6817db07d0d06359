import { describe, expect, test } from 'vitest';
import { KvClient, KvErrorCode, type TxnRequest } from '../src/index.js';
import { FakeNode } from './helpers/fakeNode.js';

const INVALID = { code: KvErrorCode.InvalidArgument };
const txn = (over: Partial<Record<keyof TxnRequest, unknown>>): TxnRequest => ({ compare: [], success: [], failure: [], ...over }) as TxnRequest;

describe('a bad txn is rejected with KV_INVALID_ARGUMENT before anything reaches the log', () => {
  const cases: [string, TxnRequest, RegExp][] = [
    ['compare not an array', txn({ compare: 'x' }), /compare must be an array/],
    ['unknown target', txn({ compare: [{ key: 'k', target: 'lease', op: '==', value: 1 }] }), /unknown target/],
    ['compare with a bad key', txn({ compare: [{ key: '', target: 'exists', exists: true }] }), /compare\[0\] key/],
    ['value compare with "<"', txn({ compare: [{ key: 'k', target: 'value', op: '<', value: 'a' }] }), /'==' or '!='/],
    ['value compare with a null value', txn({ compare: [{ key: 'k', target: 'value', op: '==', value: null }] }), /value/],
    ['exists not a boolean', txn({ compare: [{ key: 'k', target: 'exists', exists: 1 }] }), /exists must be a boolean/],
    ['revision compare with ">="', txn({ compare: [{ key: 'k', target: 'modRevision', op: '>=', value: 1 }] }), /operator/],
    ['revision compare with a fraction', txn({ compare: [{ key: 'k', target: 'version', op: '==', value: 1.5 }] }), /whole number/],
    ['revision compare with a negative', txn({ compare: [{ key: 'k', target: 'createRevision', op: '>', value: -1 }] }), /whole number/],
    ['unknown op', txn({ success: [{ op: 'cas', key: 'k' }] }), /unknown op/],
    ['op not an object', txn({ failure: [7] }), /failure\[0\] must be an object/],
    ['put without a value', txn({ success: [{ op: 'put', key: 'k' }] }), /value/],
    ['put with a bad lease', txn({ success: [{ op: 'put', key: 'k', value: 1, lease: -2 }] }), /lease/],
    ['range limit 0', txn({ success: [{ op: 'range', prefix: 'p', limit: 0 }] }), /limit/],
    ['range limit over 1000', txn({ success: [{ op: 'range', prefix: 'p', limit: 1001 }] }), /limit/],
    ['a key put twice in a branch', txn({ success: [{ op: 'put', key: 'k', value: 1 }, { op: 'put', key: 'k', value: 2 }] }), /writes key "k" more than once/],
    ['a key put and deleted in a branch', txn({ failure: [{ op: 'put', key: 'k', value: 1 }, { op: 'delete', key: 'k' }] }), /more than once/],
  ];
  test.each(cases)('%s', async (_name, request, message) => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    await expect(kv.txn(request)).rejects.toMatchObject({ ...INVALID, message: expect.stringMatching(message) });
    expect(node.proposals).toEqual([]);
  });

  test('more than maxBatchEntries compares + ops', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica(), { maxBatchEntries: 3 });
    const get = { op: 'get', key: 'k' } as const;
    await expect(kv.txn(txn({ compare: [{ key: 'k', target: 'exists', exists: true }], success: [get, get], failure: [get] }))).rejects.toMatchObject({
      ...INVALID,
      message: expect.stringMatching(/4 compares and ops, over the limit of 3/),
    });
    expect(node.proposals).toEqual([]);
    // Exactly at the limit is fine, and a key may be written once in each branch.
    const ok = await kv.txn(txn({ success: [{ op: 'put', key: 'k', value: 1 }, get], failure: [{ op: 'put', key: 'k', value: 2 }] }));
    expect(ok.succeeded).toBe(true);
  });

  test('a txn that is not an object', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    await expect(kv.txn(null as never)).rejects.toMatchObject(INVALID);
    await expect(kv.proposeWrite({ op: 'txn', compare: 5 } as never, null)).rejects.toMatchObject(INVALID);
    expect(node.proposals).toEqual([]);
  });
});
