import { describe, expect, test } from 'vitest';
import { decodeCommand, KvClient, KvErrorCode, KvSession, type SessionTag } from '../src/index.js';
import { FakeNode, dropped, notLeader, timeout } from './helpers/fakeNode.js';
import { VirtualClock } from './helpers/virtualClock.js';

const tagOf = (bytes: Uint8Array): SessionTag | null => {
  const cmd = decodeCommand(bytes);
  return cmd.type === 'write' ? cmd.session : null;
};

describe('KvClient results', () => {
  test('the first write opens a session; results carry revisions', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    expect(await kv.put('a', { v: 1 })).toEqual({ revision: 2 });
    expect(kv.session?.clientId).toBe(1);
    expect(await kv.put('b', new Uint8Array([1, 2]))).toEqual({ revision: 3 });
    expect(await kv.cas('a', { v: 1 }, { v: 2 })).toEqual({ revision: 4, ok: true });
    expect(await kv.cas('a', { v: 1 }, { v: 3 })).toEqual({ revision: 5, ok: false, current: { v: 2 } });
    expect(await kv.cas('new', null, 'x')).toEqual({ revision: 6, ok: true });
    expect(await kv.putMany([['m/1', 1], ['m/2', 2]])).toEqual({ revision: 7, count: 2 });
    expect(await kv.delete('new')).toEqual({ revision: 8, deleted: true });
    expect(await kv.delete('new')).toEqual({ revision: 9, deleted: false });
    expect(node.proposals.map(tagOf).map((t) => t?.seq)).toEqual([undefined, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('get and range report the read revision and each key\'s modRevision', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    await kv.put('a', 'x');
    await kv.putMany([['p/1', 1], ['p/2', new Uint8Array([9])], ['p/3', 3]]);
    await kv.put('z', 'later');
    expect(await kv.get('a')).toEqual({ revision: 4, value: 'x', modRevision: 2, createRevision: 2, version: 1 });
    expect(await kv.get('missing')).toEqual({ revision: 4, value: null, modRevision: null, createRevision: null, version: 0 });
    const r = await kv.range('p/', { limit: 2 });
    expect(r).toEqual({
      revision: 4,
      more: true,
      entries: [
        { key: 'p/1', value: 1, modRevision: 3, createRevision: 3, version: 1 },
        { key: 'p/2', value: new Uint8Array([9]), modRevision: 3, createRevision: 3, version: 1 },
      ],
    });
    // Returned bytes are copies: changing them changes nothing stored.
    (r.entries[1]!.value as Uint8Array)[0] = 0;
    expect((await kv.get('p/2')).value).toEqual(new Uint8Array([9]));
  });

  test('stale reads skip ReadIndex; linearizable reads wait for it', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica(), { consistency: 'stale' });
    await kv.get('a');
    expect(node.reads).toHaveLength(0);
    await kv.get('a', { consistency: 'linearizable' });
    expect(node.reads).toEqual([{ timeoutMs: 2000, lease: false }]);
  });
});

describe('KvClient exactly-once retries', () => {
  test('a write that applied but timed out is retried with the same tag and applies once', async () => {
    const node = new FakeNode();
    const clock = new VirtualClock();
    const kv = new KvClient(node.replica(), { clock });
    await kv.openSession();
    node.failures = [{ error: timeout(), applyFirst: true }];
    expect(await clock.settleOf(kv.put('k', 'v'))).toEqual({ ok: true, value: { revision: 2 } });
    expect(node.proposals.slice(1).map(tagOf)).toEqual([
      { clientId: 1, seq: 1, firstOutstanding: 1 },
      { clientId: 1, seq: 1, firstOutstanding: 1 },
    ]);
    expect(node.machine.read('k')?.modRevision).toBe(2);
  });

  test('a write without a session is not re-proposed after an unknown outcome (it could apply twice)', async () => {
    const node = new FakeNode();
    const clock = new VirtualClock();
    const kv = new KvClient(node.replica(), { clock });
    node.failures = [{ error: timeout(), applyFirst: true }];
    const out = await clock.settleOf(kv.proposeWrite({ op: 'put', key: 'k', value: 'v' }, null));
    expect(out).toMatchObject({ ok: false, error: { code: 'RAFT_TIMEOUT' } });
    expect(node.proposals).toHaveLength(1);
    expect(node.machine.read('k')?.modRevision).toBe(1);
  });

  test('a dropped proposal is proposed again', async () => {
    const node = new FakeNode();
    const clock = new VirtualClock();
    const kv = new KvClient(node.replica(), { clock });
    await kv.openSession();
    node.failures = [{ error: dropped() }];
    expect(await clock.settleOf(kv.put('k', 'v'))).toEqual({ ok: true, value: { revision: 2 } });
    expect(node.proposals.slice(1).map(tagOf)).toEqual([
      { clientId: 1, seq: 1, firstOutstanding: 1 },
      { clientId: 1, seq: 1, firstOutstanding: 1 },
    ]);
  });

  test('a single replica that is not the leader rejects with NotLeaderError and its hint, without retrying', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    await kv.openSession();
    node.failures = [{ error: notLeader('n2') }];
    await expect(kv.put('k', 'v')).rejects.toMatchObject({ code: 'RAFT_NOT_LEADER', leaderHint: 'n2' });
    expect(node.proposals).toHaveLength(2);
  });

  test('with several replicas, the client follows the leader hint', async () => {
    const follower = new FakeNode('f');
    const leader = new FakeNode('l');
    follower.failures = Array.from({ length: 5 }, () => ({ error: notLeader('l') }));
    const kv = new KvClient([follower.replica(), leader.replica()], { clock: new VirtualClock() });
    expect(await kv.put('k', 1)).toEqual({ revision: 2 });
    expect(follower.proposals).toHaveLength(1);
    expect(leader.proposals).toHaveLength(2);
  });

  test('retries stop at the deadline with the last error', async () => {
    const clock = new VirtualClock();
    const node = new FakeNode();
    const kv = new KvClient(node.replica(), { clock, timeoutMs: 500, retryDelayMs: 100 });
    await kv.openSession();
    node.failures = Array.from({ length: 100 }, () => ({ error: timeout() }));
    const outcome = await clock.settleOf(kv.put('k', 1));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'RAFT_TIMEOUT' } });
    expect(clock.now()).toBeLessThanOrEqual(600);
    expect(node.proposals.length).toBeGreaterThan(2);
  });

  test('concurrent writes tell the machine the first outstanding seq', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    await kv.openSession();
    const session = kv.session!;
    const s1 = session.begin(); // a write still in flight elsewhere
    await kv.put('a', 1);
    await kv.put('b', 2);
    session.finish(s1);
    await kv.put('c', 3);
    expect(node.proposals.slice(1).map(tagOf)).toEqual([
      { clientId: 1, seq: 2, firstOutstanding: 1 },
      { clientId: 1, seq: 3, firstOutstanding: 1 },
      { clientId: 1, seq: 4, firstOutstanding: 4 },
    ]);
    expect(node.machine.session(1)?.cached).toEqual([4]);
  });

  test('an expired session is reported, then replaced by a new one on the next write', async () => {
    const clock = new VirtualClock();
    const node = new FakeNode('solo', { sessionTtlMs: 1000 });
    const kv = new KvClient(node.replica(), { clock, wallClock: () => clock.now() });
    await kv.put('a', 1);
    const other = new KvClient(node.replica(), { clock, wallClock: () => clock.now() + 5000 });
    await other.put('b', 1); // moves the log clock past the first session's TTL
    await expect(kv.put('a', 2)).rejects.toMatchObject({ code: KvErrorCode.SessionExpired });
    expect(kv.session).toBeNull();
    expect(await kv.put('a', 3)).toMatchObject({ revision: 7 });
    expect(kv.session?.clientId).toBe(6);
    const third = new KvClient(node.replica(), { clock, wallClock: () => clock.now() + 10_000 });
    await third.put('b', 2); // and past the new one's too
    await expect(kv.keepAlive()).rejects.toMatchObject({ code: KvErrorCode.SessionExpired });
    expect(kv.session).toBeNull();
  });

  test('closing a session that already expired succeeds', async () => {
    const node = new FakeNode('solo', { sessionTtlMs: 1000 });
    const kv = new KvClient(node.replica(), { wallClock: () => 0 });
    await kv.openSession();
    await new KvClient(node.replica(), { wallClock: () => 5000 }).put('x', 1);
    await expect(kv.closeSession()).resolves.toBeUndefined();
    expect(kv.session).toBeNull();
  });

  test('explicit tags: a repeated (clientId, seq) returns the first result', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    const clientId = await kv.registerSession();
    const t = { clientId, seq: 1, firstOutstanding: 1 };
    const first = await kv.proposeWrite({ op: 'cas', key: 'k', expected: null, value: 'v' }, t);
    const again = await kv.proposeWrite({ op: 'cas', key: 'k', expected: null, value: 'v' }, t);
    expect(again).toEqual(first);
    expect(first).toEqual({ revision: 2, ok: true });
    await expect(kv.proposeWrite({ op: 'delete', key: 'k' }, t)).rejects.toMatchObject({ code: KvErrorCode.UnexpectedResult });
    expect(node.machine.read('k')).toBeDefined();
  });

  test('keepAlive and closeSession go through the log; a shared session keeps one namespace', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    const session = await kv.openSession();
    const twin = new KvClient(node.replica(), { session });
    await kv.put('a', 1);
    await twin.put('b', 2);
    expect(node.proposals.slice(1).map(tagOf).map((t) => t?.seq)).toEqual([1, 2]);
    await kv.keepAlive();
    await kv.closeSession();
    expect(kv.session).toBeNull();
    expect(node.machine.sessionCount).toBe(0);
    expect(session).toBeInstanceOf(KvSession);
  });
});
