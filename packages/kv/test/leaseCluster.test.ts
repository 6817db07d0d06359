import { afterEach, describe, expect, test } from 'vitest';
import { EntryType, NotLeaderError } from '@raftkit/core';
import { decodeCommand, isKvError, KvErrorCode, type KvRaftReplica, type SessionTag, type WatchEvent } from '../src/index.js';
import { TestCluster, ok, fails } from './helpers/cluster.js';

/** The cluster's election timeout (TestCluster: 10 ticks of 10 ms), which a new leader adds. */
const ELECTION_MS = 100;
/** LeaseKeeper's default scan interval: a lease is revoked at its deadline or up to this later. */
const CHECK_MS = 100;

let cluster: TestCluster | undefined;
afterEach(async () => {
  const errors = cluster?.errors ?? [];
  await cluster?.stop();
  cluster = undefined;
  expect(errors).toEqual([]);
});

async function startCluster(opts: { snapshotEvery?: number; snapshotTrailing?: number } = {}): Promise<TestCluster> {
  cluster = new TestCluster({ size: 3, ...opts });
  await cluster.start();
  await cluster.waitForLeader();
  return cluster;
}

/** Virtual times at which each replica applied the revoke of a lease (deleted its keys). */
function revokeTimes(c: TestCluster, replicas: KvRaftReplica[]): Map<string, number> {
  const at = new Map<string, number>();
  for (const r of replicas) r.machine.subscribeLeases({ granted: () => {}, revoked: () => at.set(r.node.id, c.clock.now()) });
  return at;
}

/** Grants a lease through the leader and attaches `keys`; returns its id and when the leader applied the grant. */
async function leaseWithKeys(c: TestCluster, ttlMs: number, keys: string[]): Promise<{ id: number; grantedAt: number }> {
  const leader = c.leader()!;
  let grantedAt = -1;
  const stop = leader.machine.subscribeLeases({ granted: () => (grantedAt = c.clock.now()), revoked: () => {} });
  const kv = c.client(leader.node.id);
  const { id } = await ok(c, kv.grantLease(ttlMs));
  stop();
  for (const key of keys) await ok(c, kv.put(key, key, { lease: id }));
  return { id, grantedAt };
}

describe('leases on a 3-node cluster (virtual time)', () => {
  test("a lease expires after its ttl on the leader's clock; its keys are deleted on every replica and a watch sees the deletes", async () => {
    const c = await startCluster();
    const follower = c.followers()[0]!;
    const watch = follower.machine.watch({ prefix: 'job/' });
    const { id, grantedAt } = await leaseWithKeys(c, 1000, ['job/a', 'job/b']);
    const times = revokeTimes(c, c.up());
    await c.clock.until(() => c.up().every((r) => r.machine.read('job/b') !== undefined));
    // Just before the deadline, nothing is revoked anywhere.
    await c.clock.run(grantedAt + 1000 - 1 - c.clock.now());
    expect(times.size).toBe(0);
    expect(c.up().every((r) => r.machine.read('job/a') !== undefined)).toBe(true);
    await c.clock.until(() => times.size === 3, 2000);
    for (const r of c.up()) {
      expect(r.machine.read('job/a')).toBeUndefined();
      expect(r.machine.read('job/b')).toBeUndefined();
      expect(r.machine.leaseList()).toEqual([]);
    }
    const leaderRevoked = times.get(c.leader()!.node.id)!;
    expect(leaderRevoked).toBeGreaterThanOrEqual(grantedAt + 1000);
    expect(leaderRevoked).toBeLessThanOrEqual(grantedAt + 1000 + CHECK_MS + 50);
    const events: WatchEvent[] = [];
    for (let i = 0; i < 4; i++) {
      const next = await ok(c, watch.next());
      events.push(next.value as WatchEvent);
    }
    const revokeRevision = events[3]!.revision;
    expect(events.map((e) => [e.type, e.key])).toEqual([
      ['put', 'job/a'],
      ['put', 'job/b'],
      ['delete', 'job/a'],
      ['delete', 'job/b'],
    ]);
    expect(events[2]!.revision).toBe(revokeRevision);
    expect(events[0]!.lease).toBe(id);
    await watch.return();
  });

  test('keep-alive keeps a lease past many ttls; once they stop it expires', async () => {
    const c = await startCluster();
    const { id } = await leaseWithKeys(c, 500, ['k']);
    const kv = c.client();
    const start = c.clock.now();
    for (let i = 0; i < 10; i++) {
      await c.clock.run(300);
      expect(await ok(c, kv.keepAlive(id))).toEqual({ id, ttlMs: 500 });
    }
    expect(c.clock.now() - start).toBeGreaterThanOrEqual(3000);
    expect(c.up().every((r) => r.machine.read('k')?.lease === id)).toBe(true);
    const ttl = await ok(c, kv.timeToLive(id, { keys: true }));
    expect(ttl).toMatchObject({ id, grantedTtlMs: 500, keys: ['k'] });
    expect(ttl.ttlMs).toBeGreaterThan(0);
    expect(ttl.ttlMs).toBeLessThanOrEqual(500);
    await c.clock.until(() => c.up().every((r) => r.machine.read('k') === undefined), 2000);
    const err = await fails(c, kv.keepAlive(id));
    expect(isKvError(err, KvErrorCode.LeaseNotFound)).toBe(true);
  });

  test('a leader change never expires a kept-alive lease early: the new leader gives it ttl + election timeout', async () => {
    const c = await startCluster();
    const { id } = await leaseWithKeys(c, 1000, ['k']);
    const kv = c.client();
    await ok(c, kv.keepAlive(id));
    const keptAt = c.clock.now();
    const old = c.leader()!;
    const electedAt = new Map<string, number>();
    for (const r of c.followers()) r.node.on('stateChange', (s) => void (s.role === 'leader' && electedAt.set(r.node.id, c.clock.now())));
    await c.crash(old.node.id);
    const times = revokeTimes(c, c.up());
    const leader = await c.waitForLeader();
    const since = electedAt.get(leader.node.id)!;
    expect(since).toBeGreaterThan(keptAt);
    // The old leader's promise (keptAt + ttl) is kept, and the new leader's own deadline too.
    await c.clock.run(since + 1000 + ELECTION_MS - 1 - c.clock.now());
    expect(times.size).toBe(0);
    expect(c.up().every((r) => r.machine.read('k') !== undefined)).toBe(true);
    await c.clock.until(() => times.size === 2, 2000);
    expect(times.get(leader.node.id)!).toBeGreaterThanOrEqual(since + 1000 + ELECTION_MS);
    expect(c.up().every((r) => r.machine.read('k') === undefined)).toBe(true);
  });

  test('revoke deletes the keys at its revision on every replica; the lease is then gone', async () => {
    const c = await startCluster();
    const { id } = await leaseWithKeys(c, 60_000, ['a', 'b']);
    const kv = c.client();
    await ok(c, kv.put('plain', 1));
    expect(await ok(c, kv.leases())).toEqual([id]);
    const r = await ok(c, kv.revokeLease(id));
    expect(r).toMatchObject({ revoked: true, deleted: 2 });
    for (const f of c.up()) {
      const got = await ok(c, c.clientOn(f).get('a'));
      expect(got.value).toBeNull();
      expect(got.revision).toBeGreaterThanOrEqual(r.revision);
      expect(f.machine.read('plain')).toBeDefined();
    }
    expect(await ok(c, kv.revokeLease(id))).toMatchObject({ revoked: false, deleted: 0 });
    expect(await ok(c, kv.leases())).toEqual([]);
    expect(isKvError(await fails(c, kv.timeToLive(id)), KvErrorCode.LeaseNotFound)).toBe(true);
    expect(isKvError(await fails(c, kv.keepAlive(id)), KvErrorCode.LeaseNotFound)).toBe(true);
  });

  test('a put naming a missing lease fails KV_LEASE_NOT_FOUND with nothing written', async () => {
    const c = await startCluster();
    const kv = c.client();
    const err = await fails(c, kv.put('k', 'v', { lease: 12345 }));
    expect(isKvError(err, KvErrorCode.LeaseNotFound)).toBe(true);
    expect((await ok(c, kv.get('k'))).value).toBeNull();
    const txnErr = await fails(c, kv.txn({ compare: [], success: [{ op: 'put', key: 'k', value: 1, lease: 9 }, { op: 'put', key: 'j', value: 2 }], failure: [] }));
    expect(isKvError(txnErr, KvErrorCode.LeaseNotFound)).toBe(true);
    expect((await ok(c, kv.range(''))).entries).toEqual([]);
  });

  test('bad lease arguments fail KV_INVALID_ARGUMENT before the log', async () => {
    const c = await startCluster();
    const kv = c.client();
    const revision = c.leader()!.machine.revision;
    const calls = [
      () => kv.grantLease(0),
      () => kv.grantLease(2 ** 41),
      () => kv.grantLease(1000, { id: -1 }),
      () => kv.revokeLease(0),
      () => kv.keepAlive(1.5),
      () => kv.timeToLive(-2),
      () => kv.put('k', 1, { lease: -1 }),
    ];
    for (const call of calls) expect(isKvError(await fails(c, call()), KvErrorCode.InvalidArgument)).toBe(true);
    // Validated before a session is even opened: nothing reached the log.
    expect(c.leader()!.machine.revision).toBe(revision);
    expect(c.leader()!.machine.leaseList()).toEqual([]);
  });

  test('keep-alive on a follower bound client rejects with NotLeaderError naming the leader', async () => {
    const c = await startCluster();
    const { id } = await leaseWithKeys(c, 5000, []);
    const err = await fails(c, c.clientOn(c.followers()[0]!).keepAlive(id));
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leaderHint).toBe(c.leader()!.node.id);
  });

  test("only the leader's keeper runs; stopping the leader stops it (it drops its deadlines)", async () => {
    const c = await startCluster();
    await leaseWithKeys(c, 5000, ['k']);
    const leader = c.leader()!;
    expect(leader.leases.isLeader).toBe(true);
    expect(leader.leases.size).toBe(1);
    for (const f of c.followers()) expect([f.leases.isLeader, f.leases.size]).toEqual([false, 0]);
    await c.crash(leader.node.id);
    expect([leader.leases.isLeader, leader.leases.size]).toEqual([false, 0]);
    const next = await c.waitForLeader();
    expect([next.leases.isLeader, next.leases.size]).toEqual([true, 1]);
  });

  test('a grant retried under the same session tag applies once', async () => {
    const c = await startCluster();
    const kv = c.client();
    const clientId = await ok(c, kv.registerSession());
    const t: SessionTag = { clientId, seq: 1, firstOutstanding: 1 };
    const first = await ok(c, kv.proposeWrite({ op: 'leaseGrant', ttlMs: 5000 }, t));
    const again = await ok(c, kv.proposeWrite({ op: 'leaseGrant', ttlMs: 5000 }, t));
    expect(again).toEqual(first);
    const leader = c.leader()!.node.id;
    const store = c.store(leader);
    const tagged = store.entries(store.firstIndex, store.lastIndex + 1).filter((e) => {
      if (e.type !== EntryType.Normal) return false;
      const cmd = decodeCommand(e.data);
      return cmd.type === 'write' && cmd.session?.clientId === clientId && cmd.session.seq === 1;
    });
    expect(tagged).toHaveLength(2);
    expect(await ok(c, kv.leases())).toEqual([first.id]);
  });

  test('a replica restored from a snapshot holds the leases and their keys, and expiry still deletes them there', async () => {
    const c = await startCluster({ snapshotEvery: 5, snapshotTrailing: 0 });
    const lagging = c.followers()[0]!.node.id;
    await c.crash(lagging);
    const { id } = await leaseWithKeys(c, 2000, ['s/1', 's/2']);
    const kv = c.client();
    for (let i = 0; i < 12; i++) await ok(c, kv.put(`fill/${i}`, i));
    expect(c.leader()!.node.status().snapshotIndex).toBeGreaterThan(id);
    const back = await c.boot(lagging);
    let restores = 0;
    back.machine.subscribeChanges({ applied: () => {}, restored: () => restores++ });
    await c.clock.until(() => back.machine.read('s/2') !== undefined, 5000);
    expect(restores).toBeGreaterThan(0);
    expect(back.machine.leaseKeys(id)).toEqual(['s/1', 's/2']);
    await c.clock.until(() => back.machine.read('s/1') === undefined, 5000);
    expect(back.machine.leaseList()).toEqual([]);
  });
});
