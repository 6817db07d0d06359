import { describe, expect, test } from 'vitest';
import { RawNode, seededRandom, type RaftConfig } from '../src/consensus/index.js';
import { TestCluster } from './helpers/cluster.js';

const ids = ['a', 'b', 'c'];

describe('thesis §6.4 ReadIndex', () => {
  test('§6.4 the leader answers a read at its commit index only after a majority confirms leadership', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.stabilize();
    c.node('a').raw.readIndex('r1');
    c.flush('a');
    expect(c.node('a').readStates).toEqual([]);
    const hb = c.queue.filter((m) => m.type === 'heartbeat');
    expect(hb).toHaveLength(2);
    expect(hb.every((m) => m.type === 'heartbeat' && m.context > 0)).toBe(true);
    c.stabilize();
    expect(c.node('a').readStates).toEqual([{ requestId: 'r1', index: 2 }]);
  });

  test('§6.4 a leader cut off from the majority cannot confirm a read; stepping down fails it', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.dropIf = (m) => m.from === 'a' || m.to === 'a';
    c.node('a').raw.readIndex('r1');
    c.flush('a');
    c.stabilize();
    expect(c.node('a').readStates).toEqual([]);
    c.tick('a', 20); // check-quorum makes it step down
    expect(c.node('a').readStates).toEqual([{ requestId: 'r1', index: 0 }]);
  });

  test('§6.4 a follower forwards a read to the leader and gets the leader\'s commit index', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.stabilize();
    c.node('b').raw.readIndex('rb');
    c.stabilize();
    expect(c.node('b').readStates).toEqual([{ requestId: 'rb', index: 2 }]);
  });

  test('§6.4 a new leader defers reads until it has committed an entry of its own term', () => {
    const c = new TestCluster(ids);
    c.dropIf = (m) => m.type === 'append';
    c.elect('a');
    c.node('a').raw.readIndex('r1');
    c.flush('a');
    c.stabilize();
    expect(c.node('a').readStates).toEqual([]);
    c.dropIf = () => false;
    c.tick('a');
    c.stabilize();
    c.tick('a');
    c.stabilize();
    expect(c.node('a').readStates).toEqual([{ requestId: 'r1', index: 1 }]);
  });

  test('a node with no known leader fails a read at once', () => {
    const c = new TestCluster(ids);
    c.node('b').raw.readIndex('r');
    c.flush('b');
    expect(c.node('b').readStates).toEqual([{ requestId: 'r', index: 0 }]);
  });
});

describe('Raft §7 snapshots and log compaction', () => {
  test('§7 a follower behind the leader\'s compacted log is sent a snapshot and catches up', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.dropIf = (m) => m.to === 'c' || m.from === 'c';
    for (let i = 0; i < 10; i++) c.propose('a', `v${i}`);
    c.stabilize();
    const a = c.node('a').raw;
    const applied = a.status().appliedIndex;
    expect(applied).toBe(11);
    const meta = { index: applied, term: 1, voters: ids };
    a.snapshotTaken(meta);
    a.compact(meta.index);
    expect(a.status().snapshotIndex).toBe(11);
    expect(() => a.entries(5, 6)).toThrow(expect.objectContaining({ code: 'RAFT_COMPACTED' }));
    c.propose('a', 'after');
    c.stabilize();
    const snapshots: unknown[] = [];
    c.dropIf = (m) => {
      if (m.type === 'snapshot') snapshots.push(m);
      return false;
    };
    for (let i = 0; i < 5; i++) {
      c.tick('a');
      c.stabilize();
    }
    expect(snapshots).toHaveLength(1);
    const cs = c.node('c');
    expect(cs.store.snapshot?.index).toBe(11);
    expect(cs.raw.status()).toMatchObject({ snapshotIndex: 11, commitIndex: 12, appliedIndex: 12, lastIndex: 12 });
    expect(cs.applied.map((e) => e.data)).toEqual(['', 'after']); // the no-op before the partition, then after the snapshot
  });

  test('§7 a lost snapshot is sent again after an election timeout', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.dropIf = (m) => m.to === 'c' || m.from === 'c';
    c.propose('a', 'x');
    c.stabilize();
    c.node('a').raw.snapshotTaken({ index: 2, term: 1, voters: ids });
    c.node('a').raw.compact(2);
    c.dropIf = (m) => m.type === 'snapshot';
    c.tick('a', 3);
    c.stabilize();
    expect(c.status('c').snapshotIndex).toBe(0);
    c.dropIf = () => false;
    c.tick('a', 12);
    c.stabilize();
    expect(c.status('c').snapshotIndex).toBe(2);
  });
});

describe('restart from durable state', () => {
  test('a restarted node keeps its term, vote and log, and re-applies committed entries', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.stabilize();
    const before = c.status('b');
    const b = c.restart('b');
    expect(b.raw.status()).toMatchObject({ term: before.term, vote: before.vote, lastIndex: before.lastIndex, appliedIndex: 0 });
    c.flush('b');
    expect(b.applied.map((e) => e.data)).toEqual(['', 'x']);
  });
});

describe('config validation', () => {
  const base: RaftConfig = { id: 'a', voters: ['a', 'b', 'c'], random: seededRandom(1) };
  const bad: [string, Partial<RaftConfig> & Record<string, unknown>][] = [
    ['electionTicks <= heartbeatTicks', { electionTicks: 3, heartbeatTicks: 3 }],
    ['an id not among the voters', { id: 'z' }],
    ['voters that are not a list', { voters: 'a,b' as unknown as string[] }],
    ['duplicate voters', { voters: ['a', 'a', 'b'] }],
    ['a non-integer tick count', { electionTicks: 2.5 }],
    ['zero maxInflight', { maxInflight: 0 }],
    ['a missing random source', { random: undefined as unknown as () => number }],
    ['a non-boolean preVote', { preVote: 'yes' as unknown as boolean }],
  ];
  for (const [name, patch] of bad) {
    test(`rejects ${name} with RAFT_INVALID_CONFIG`, () => {
      const cfg = { ...base, ...patch } as RaftConfig;
      if (patch.random === undefined && 'random' in patch) delete (cfg as { random?: unknown }).random;
      expect(() => new RawNode(cfg)).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_CONFIG' }));
    });
  }

  test('accepts a valid config with defaults', () => {
    expect(new RawNode(base).status()).toMatchObject({ role: 'follower', term: 0, leader: null });
  });

  test('propose rejects an empty batch and non-bytes with RAFT_INVALID_ARGUMENT', () => {
    const n = new RawNode({ ...base, voters: ['a'] });
    expect(() => n.propose([])).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' }));
    expect(() => n.propose(['x'] as unknown as Uint8Array[])).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' }));
  });

  test('ready() twice without advance() is refused', () => {
    const n = new RawNode({ ...base, voters: ['a'] });
    n.campaign();
    n.ready();
    expect(() => n.ready()).toThrow(expect.objectContaining({ code: 'RAFT_INVARIANT_VIOLATED' }));
  });
});

describe('thesis §6.4.1 lease reads', () => {
  test('§6.4.1 a leader holds a lease while a majority acknowledges its heartbeats', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    const leaseValid = (): boolean => c.node('a').raw.leaseReadIndex() > 0;
    expect(leaseValid()).toBe(false); // no heartbeat round acknowledged yet
    c.tick('a');
    c.stabilize();
    expect(leaseValid()).toBe(true);
    // Cut off: the lease expires before an election timeout (minus drift) has passed.
    c.dropIf = (m) => m.from === 'a' || m.to === 'a';
    let ticks = 0;
    while (leaseValid()) {
      c.tick('a');
      ticks++;
    }
    expect(ticks).toBeLessThan(10);
    expect(c.status('a').role).toBe('leader'); // still leader, but may no longer serve lease reads
  });

  test('§6.4.1 a restarted node does not vote for an election timeout, honouring leases it acknowledged', () => {
    const c = new TestCluster(ids, { preVote: false });
    c.elect('a');
    c.tick('a');
    c.stabilize();
    c.restart('b');
    c.node('c').raw.campaign();
    c.flush('c');
    c.take((m) => m.to === 'a');
    c.deliver(c.take((m) => m.to === 'b')[0]!);
    expect(c.take((m) => m.from === 'b' && m.type === 'voteResponse')).toEqual([]);
  });
});

describe('Ready.mustSync', () => {
  test('a Ready that only moves the commit index need not be fsync\'d; one with entries must', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    const b = c.node('b').raw;
    b.step(c.take((m) => m.to === 'b' && m.type === 'append')[0]!);
    const withEntries = b.ready();
    expect(withEntries.entries.map((e) => e.index)).toEqual([2]);
    expect(withEntries.mustSync).toBe(true);
    b.advance(withEntries);
    c.take();
    c.deliver(withEntries.messages[0]!); // b's ack: the leader commits index 2 and says so
    const commitMsg = c.take((m) => m.to === 'b')[0]!;
    b.step(commitMsg);
    const commitOnly = b.ready();
    expect(commitOnly.hardState?.commit).toBe(2);
    expect(commitOnly.entries).toEqual([]);
    expect(commitOnly.mustSync).toBe(false);
    b.advance(commitOnly);
  });

  test('a vote must be synced', () => {
    const c = new TestCluster(ids, { preVote: false });
    c.node('a').raw.campaign();
    const rd = c.node('a').raw.ready();
    expect(rd.hardState?.vote).toBe('a');
    expect(rd.mustSync).toBe(true);
  });
});
