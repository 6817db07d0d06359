import { afterEach, describe, expect, test } from 'vitest';
import { EntryType, NotLeaderError } from '@raftkit/core';
import { decodeCommand, KvErrorCode, type SessionTag } from '../src/index.js';
import { TestCluster, type ClusterOptions, ok, fails } from './helpers/cluster.js';
import { snapshotHex } from './helpers/machine.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  const errors = cluster?.errors ?? [];
  await cluster?.stop();
  cluster = undefined;
  expect(errors).toEqual([]);
});

async function startCluster(opts: Partial<ClusterOptions> = {}): Promise<TestCluster> {
  cluster = new TestCluster({ size: 3, ...opts });
  await cluster.start();
  await cluster.waitForLeader();
  return cluster;
}

/** Log entries of node `id` that carry write `tag`. */
function entriesTagged(c: TestCluster, id: string, tag: { clientId: number; seq: number }): number[] {
  const store = c.store(id);
  return store.entries(store.firstIndex, store.lastIndex + 1).flatMap((e) => {
    if (e.type !== EntryType.Normal) return [];
    const cmd = decodeCommand(e.data);
    const t: SessionTag | null = cmd.type === 'write' ? cmd.session : null;
    return t && t.clientId === tag.clientId && t.seq === tag.seq ? [e.index] : [];
  });
}


describe('kv on a 3-node RaftNode cluster (MemoryLogStorage, MemoryNetwork)', () => {
  test('a put on the leader is seen by a linearizable get on a follower', async () => {
    const c = await startCluster();
    const put = await ok(c, c.clientOn(c.leader()!).put('greeting', { hello: 'world' }));
    for (const f of c.followers()) {
      const got = await ok(c, c.clientOn(f).get('greeting'));
      expect(got).toEqual({ revision: put.revision, value: { hello: 'world' }, modRevision: put.revision, createRevision: put.revision, version: 1 });
    }
  });

  test('a write on a follower rejects with NotLeaderError naming the leader', async () => {
    const c = await startCluster();
    const leaderId = c.leader()!.node.id;
    const follower = c.clientOn(c.followers()[0]!);
    const err = await fails(c, follower.put('k', 1));
    expect(err).toBeInstanceOf(NotLeaderError);
    expect(err).toMatchObject({ code: 'RAFT_NOT_LEADER', leaderHint: leaderId });
  });

  test('a partitioned follower never serves an old value as linearizable; a stale read does', async () => {
    const c = await startCluster();
    const leader = c.clientOn(c.leader()!);
    await ok(c, leader.put('k', 'old'));
    const f = c.followers()[0]!;
    await c.clock.until(() => f.machine.read('k') !== undefined);
    c.net.isolate(f.node.id);
    await ok(c, leader.put('k', 'new'));
    const onF = c.clientOn(f, { timeoutMs: 1000 });
    expect(await ok(c, onF.get('k', { consistency: 'stale' }))).toMatchObject({ value: 'old' });
    // It either times out waiting for the leader or, once it gives up on it, says so.
    const err = (await fails(c, onF.get('k'))) as { code: string };
    expect(['RAFT_TIMEOUT', 'RAFT_NOT_LEADER']).toContain(err.code);
    c.net.heal();
    await c.clock.until(() => f.node.status().leader !== null);
    expect(await ok(c, onF.get('k'))).toMatchObject({ value: 'new' });
  });

  test('lease reads work on a check-quorum cluster and are refused without check-quorum', async () => {
    const c = await startCluster();
    const leader = c.clientOn(c.leader()!);
    const put = await ok(c, leader.put('k', 'v'));
    await c.clock.run(50);
    expect(await ok(c, leader.get('k', { consistency: 'lease' }))).toMatchObject({ value: 'v', modRevision: put.revision });
    expect(await ok(c, c.clientOn(c.followers()[0]!).range('', { consistency: 'lease' }))).toMatchObject({ entries: [{ key: 'k' }] });
    await c.stop();
    const noQuorum = await startCluster({ checkQuorum: false });
    const err = await fails(noQuorum, noQuorum.clientOn(noQuorum.leader()!).get('k', { consistency: 'lease' }));
    expect(err).toMatchObject({ code: KvErrorCode.LeaseUnavailable });
  });

  test('putMany and range over the cluster, read from a follower', async () => {
    const c = await startCluster();
    const kv = c.client(c.followers()[0]!.node.id);
    const batch = await ok(c, kv.putMany([['user/2', { n: 'b' }], ['user/1', { n: 'a' }], ['other', 0]]));
    const later = await ok(c, kv.put('user/3', { n: 'c' }));
    const r = await ok(c, kv.range('user/', { limit: 2 }));
    expect(r.revision).toBeGreaterThanOrEqual(later.revision);
    expect(r.more).toBe(true);
    expect(r.entries).toEqual([
      { key: 'user/1', value: { n: 'a' }, modRevision: batch.revision, createRevision: batch.revision, version: 1 },
      { key: 'user/2', value: { n: 'b' }, modRevision: batch.revision, createRevision: batch.revision, version: 1 },
    ]);
  });

  test('§6.3 a write retried across a leader crash applies exactly once', async () => {
    const c = await startCluster();
    const old = c.leader()!;
    const kv = c.client(old.node.id);
    const session = await ok(c, kv.openSession());
    // Followers get the leader's entries, but it never hears back, so it cannot answer.
    for (const f of c.followers()) c.net.block(f.node.id, old.node.id);
    const write = kv.put('once', 'v1');
    const index = old.node.status().lastIndex + 1;
    await c.clock.until(() => c.followers().every((f) => f.node.status().lastIndex >= index));
    await c.crash(old.node.id);
    c.net.heal();
    const result = await ok(c, write);
    const tag = { clientId: session.clientId, seq: 1 };
    // The original entry committed under the new leader and ran; the retry was answered from
    // the session's cache, with the original's revision.
    expect(result.revision).toBe(index);
    const leader = c.leader()!;
    const tagged = entriesTagged(c, leader.node.id, tag);
    expect(tagged.length).toBeGreaterThanOrEqual(2);
    expect(tagged[0]).toBe(index);
    await c.boot(old.node.id);
    await c.clock.until(() => c.up().every((r) => r.machine.revision === leader.machine.revision));
    for (const r of c.up()) expect(r.machine.read('once')?.modRevision).toBe(index);
  });

  test('a node restarted from a snapshot dedupes exactly like the others (byte-identical snapshots)', async () => {
    const c = await startCluster({ snapshotEvery: 5 });
    // A server-style caller with explicit tags: seq 1 stays unacknowledged, so it stays cached.
    const server = c.client(c.leader()!.node.id);
    const clientId = await ok(c, server.registerSession());
    const tag1 = { clientId, seq: 1, firstOutstanding: 1 };
    const first = await ok(c, server.proposeWrite({ op: 'put', key: 'k', value: 0 }, tag1));
    const lagging = c.followers()[0]!.node.id;
    await c.crash(lagging);
    const kv = c.client(c.leader()!.node.id);
    for (let i = 1; i <= 12; i++) await ok(c, kv.put(`k${i % 3}`, i));
    expect(c.leader()!.node.status().snapshotIndex).toBeGreaterThan(first.revision);
    const back = await c.boot(lagging);
    const leader = c.leader()!;
    await c.clock.until(() => back.machine.revision === leader.machine.revision);
    expect(back.node.status().snapshotIndex).toBeGreaterThan(first.revision);
    // The duplicate is answered from the cache, on the restored node too.
    expect(await ok(c, server.proposeWrite({ op: 'put', key: 'k', value: 0 }, tag1))).toEqual(first);
    // kv's seq 1 was acknowledged by its later writes: a late duplicate is refused, not rerun.
    const acked = { clientId: kv.session!.clientId, seq: 1, firstOutstanding: 1 };
    expect(await fails(c, kv.proposeWrite({ op: 'put', key: 'k1', value: 1 }, acked))).toMatchObject({ code: KvErrorCode.StaleSequence });
    await c.clock.until(() => c.up().every((r) => r.machine.revision === leader.machine.revision));
    expect(back.machine.read('k')?.modRevision).toBe(first.revision);
    const snaps = await Promise.all(c.up().map((r) => snapshotHex(r.machine)));
    expect(new Set(snaps).size).toBe(1);
  });
});
