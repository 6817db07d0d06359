import { NotLeaderError } from '@raftkit/core';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';
import { Router } from '../src/router.js';
import type { KvReplica } from '../src/types.js';

const replica = (id: string): KvReplica =>
  ({ node: { id, propose: () => Promise.resolve(), readIndex: () => Promise.resolve(0) }, machine: { read: () => null } }) as unknown as KvReplica;

test('stale leader hints that form a cycle (removed nodes still running) do not trap writes: the router goes round the list', () => {
  const ids = ['n5', 'n6', 'n7', 'n1'];
  const router = new Router(ids.map(replica));
  // n5 -> n6 -> n7 -> n5 ... each names the next as leader; n1 really leads.
  const hint: Record<string, string> = { n5: 'n6', n6: 'n7', n7: 'n5' };
  const visited: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const r = router.target('write')!;
    visited.push(r.node.id);
    if (r.node.id === 'n1') break;
    expect(router.reroute('write', r, new NotLeaderError(hint[r.node.id]!))).toBe(true);
  }
  expect(visited.at(-1)).toBe('n1');
  expect(visited.length).toBeLessThanOrEqual(2 * ids.length);
  // A success resets it: hints are followed again.
  router.succeeded('write', replica('n1'));
  router.reroute('write', replica('n1'), new NotLeaderError('n6'));
  expect(router.target('write')!.node.id).toBe('n6');
});

test('a leader hint from another copy of @raftkit/core (its CJS build next to the ESM one kv imports) is followed', () => {
  const cjs = createRequire(import.meta.url)('@raftkit/core') as typeof import('@raftkit/core');
  const foreign = new cjs.NotLeaderError('n3');
  expect(foreign).not.toBeInstanceOf(NotLeaderError); // two classes: only the brand is shared
  const router = new Router(['n1', 'n2', 'n3'].map(replica));
  expect(router.reroute('write', replica('n1'), foreign)).toBe(true);
  expect(router.target('write')!.node.id).toBe('n3');
});

test('a KvError from another copy of @raftkit/kv is recognised by its brand (isKvError), a look-alike is not', async () => {
  const { KvError, KvErrorCode, isKvError } = await import('../src/errors.js');
  const foreign = Object.assign(new Error('x'), { code: KvErrorCode.SessionExpired, [Symbol.for('raftkit.kv.error')]: true });
  expect(isKvError(foreign, KvErrorCode.SessionExpired)).toBe(true);
  expect(isKvError(Object.assign(new Error('x'), { code: KvErrorCode.SessionExpired }))).toBe(false);
  expect(isKvError(new KvError(KvErrorCode.BadCommand, 'y'), KvErrorCode.BadCommand)).toBe(true);
  expect(isKvError(new KvError(KvErrorCode.BadCommand, 'y'), KvErrorCode.SessionExpired)).toBe(false);
});
