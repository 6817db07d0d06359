import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Message } from '../src/consensus/types.js';
import { bytes } from './helpers/cluster.js';
import { FakeStorage, settle } from './helpers/fakes.js';
import { Harness } from './helpers/nodeHarness.js';

const ids = ['a', 'b', 'c'];
/** A write that takes several event-loop turns, so other work interleaves with it. */
const slowDisk = async (): Promise<void> => {
  for (let i = 0; i < 4; i++) await settle();
};

let h: Harness;
afterEach(async () => {
  await h?.stopAll();
});

describe('RaftNode runtime', () => {
  test('elects a leader; a proposal resolves with the state machine result once applied, on every node in order', async () => {
    h = new Harness();
    for (const id of ids) await h.boot(id);
    await h.clock.until(() => h.leader() !== undefined);
    const leader = h.leader()!;
    const results = await Promise.all(['x', 'y', 'z'].map((s) => leader.node.propose(bytes(s))));
    expect(results).toEqual([1, 2, 3]);
    await h.clock.until(() => [...h.members.values()].every((m) => m.sm.items.length === 3));
    for (const m of h.members.values()) expect(m.sm.items).toEqual(['x', 'y', 'z']);
    const st = leader.node.status();
    expect(st.commitIndex).toBe(4);
    expect(st.progress['b']!.match).toBe(4);
  });

  test('ordering rule: no message leaves before the state it promises is durable', async () => {
    h = new Harness();
    const violations: string[] = [];
    const storages = new Map(ids.map((id) => [id, new FakeStorage(undefined, slowDisk)]));
    h.net.onSend = (m: Message) => {
      const d = storages.get(m.from)!.durable;
      const last = d.entries[d.entries.length - 1]?.index ?? 0;
      if (d.hardState.term < m.term && !(m.type === 'vote' && m.preVote) && !(m.type === 'voteResponse' && m.preVote)) {
        violations.push(`${m.from} sent ${m.type} of term ${m.term} with durable term ${d.hardState.term}`);
      }
      if (m.type === 'voteResponse' && m.granted && !m.preVote && d.hardState.vote !== m.to) violations.push(`vote for ${m.to} not durable`);
      if (m.type === 'vote' && !m.preVote && d.hardState.vote !== m.from) violations.push('own vote not durable');
      if (m.type === 'appendResponse' && m.success && m.index > last) violations.push(`ack of ${m.index} with durable last ${last}`);
    };
    for (const id of ids) await h.boot(id, storages.get(id));
    await h.clock.until(() => h.leader() !== undefined);
    const leader = h.leader()!;
    await Promise.all(Array.from({ length: 20 }, (_, i) => leader.node.propose(bytes(`v${i}`))));
    expect(violations).toEqual([]);
    expect(storages.get('a')!.saves).toBeGreaterThan(1);
  });

  test('a follower rejects a proposal with RAFT_NOT_LEADER naming the leader', async () => {
    h = new Harness();
    for (const id of ids) await h.boot(id);
    await h.clock.until(() => h.leader() !== undefined && [...h.members.values()].every((m) => m.node.status().leader !== null));
    const leaderId = h.leader()!.node.id;
    const follower = [...h.members.values()].find((m) => m.node.id !== leaderId)!;
    await expect(follower.node.propose(bytes('x'))).rejects.toMatchObject({ code: 'RAFT_NOT_LEADER', leaderHint: leaderId });
  });

  test('a proposal that cannot commit times out with RAFT_TIMEOUT', async () => {
    h = new Harness();
    for (const id of ids) await h.boot(id);
    await h.clock.until(() => h.leader() !== undefined);
    const leader = h.leader()!;
    for (const id of ids) if (id !== leader.node.id) h.net.down.add(id);
    const p = leader.node.propose(bytes('lost'), { timeoutMs: 200 });
    const assertion = expect(p).rejects.toMatchObject({ code: 'RAFT_TIMEOUT' });
    await h.clock.advance(300);
    await assertion;
  });

  test('readIndex on a follower resolves once that follower has applied the leader\'s commit index', async () => {
    h = new Harness();
    for (const id of ids) await h.boot(id);
    await h.clock.until(() => h.leader() !== undefined);
    const leader = h.leader()!;
    await leader.node.propose(bytes('w'));
    const follower = [...h.members.values()].find((m) => m !== leader)!;
    await h.clock.until(() => follower.node.status().leader !== null);
    const p = follower.node.readIndex();
    let index = 0;
    void p.then((i) => (index = i));
    await h.clock.until(() => index > 0);
    expect(index).toBeGreaterThanOrEqual(2);
    expect(follower.sm.items).toContain('w');
  });

  test('a restarted cluster recovers term, vote, log and state from storage', async () => {
    h = new Harness();
    for (const id of ids) await h.boot(id);
    await h.clock.until(() => h.leader() !== undefined);
    await h.leader()!.node.propose(bytes('kept'));
    await h.clock.until(() => [...h.members.values()].every((m) => m.sm.items.length === 1));
    const before = new Map([...h.members].map(([id, m]) => [id, m.node.status()]));
    await h.stopAll();
    const old = new Map(h.members);
    for (const id of ids) await h.boot(id, old.get(id)!.storage);
    for (const id of ids) {
      const st = h.members.get(id)!.node.status();
      expect(st.term).toBe(before.get(id)!.term);
      expect(st.vote).toBe(before.get(id)!.vote);
      expect(st.lastIndex).toBe(before.get(id)!.lastIndex);
    }
    await h.clock.until(() => [...h.members.values()].every((m) => m.sm.items.length === 1));
    expect(h.members.get('a')!.sm.items).toEqual(['kept']);
  });

  test('a storage failure is fatal: the node stops, reports it, and fails waiting proposals', async () => {
    h = new Harness();
    for (const id of ids) await h.boot(id);
    await h.clock.until(() => h.leader() !== undefined);
    const leader = h.leader()!;
    const errors: unknown[] = [];
    leader.node.on('error', (e) => errors.push(e));
    leader.storage.failNext = new Error('disk on fire');
    await expect(leader.node.propose(bytes('x'))).rejects.toMatchObject({ code: 'RAFT_STORAGE_FAILED' });
    expect(errors).toHaveLength(1);
    expect(leader.node.status().running).toBe(false);
    await expect(leader.node.propose(bytes('y'))).rejects.toMatchObject({ code: 'RAFT_STORAGE_FAILED' });
  });

  test('§7 the log is compacted into snapshots, and a new empty node catches up from one', async () => {
    h = new Harness();
    for (const id of ['a', 'b']) await h.boot(id, undefined, { snapshotEvery: 5, snapshots: { trailingEntries: 0 } });
    h.net.down.add('c');
    await h.clock.until(() => h.leader() !== undefined, 20_000);
    const leader = h.leader()!;
    for (let i = 0; i < 12; i++) await leader.node.propose(bytes(`v${i}`));
    expect(leader.storage.durable.snapshot).not.toBeNull();
    expect(leader.node.status().snapshotIndex).toBeGreaterThanOrEqual(5);
    h.net.down.delete('c');
    const c = await h.boot('c');
    await h.clock.until(() => c.sm.items.length === 12, 20_000);
    expect(c.sm.items).toEqual(leader.sm.items);
    expect(c.storage.durable.snapshot).not.toBeNull();
    await settle();
  });
});

describe('RaftNode lease reads', () => {
  /** A 3-node cluster whose leader committed an entry of its term and heard a heartbeat round back. */
  async function leaderWithLease() {
    h = new Harness();
    for (const id of ids) await h.boot(id);
    await h.clock.until(() => h.leader() !== undefined);
    const leader = h.leader()!;
    await leader.node.propose(bytes('x'));
    await h.clock.advance(50);
    return leader;
  }

  test('§6.4.1 a leader with a valid lease serves a read without a heartbeat round', async () => {
    const leader = await leaderWithLease();
    let heartbeats = 0;
    h.net.onSend = (m) => void (m.type === 'heartbeat' && heartbeats++);
    const index = await leader.node.readIndex({ lease: true });
    expect(heartbeats).toBe(0);
    expect(index).toBe(leader.node.status().commitIndex);
  });

  test('§6.4.1 a lease read whose index is applied is answered at once: no waiter, no timer', async () => {
    const leader = await leaderWithLease();
    const timers = vi.spyOn(h.clock, 'setTimeout');
    const reads = await Promise.all(Array.from({ length: 100 }, () => leader.node.readIndex({ lease: true })));
    expect(timers).not.toHaveBeenCalled();
    expect(new Set(reads)).toEqual(new Set([leader.node.status().appliedIndex]));
    timers.mockRestore();
  });
});
