import { describe, expect, test } from 'vitest';
import type { Message } from '../src/consensus/types.js';
import { compactStore } from '../src/testing/durableStore.js';
import { TestCluster, persist } from './helpers/cluster.js';

// The consensus core's side of snapshots (Raft §7, issue 12): taking a snapshot and compacting
// are separate steps, the leader chooses log or snapshot per follower, and a follower keeps what
// a snapshot does not supersede. Pure cores, messages delivered by hand.

const ids = ['a', 'b', 'c'];

/** a leads; c is cut off while a commits `n` entries (indexes 2..n+1 after the no-op at 1). */
function cutOff(n: number): TestCluster {
  const c = new TestCluster(ids);
  c.elect('a');
  c.dropIf = (m) => m.to === 'c' || m.from === 'c';
  for (let i = 0; i < n; i++) c.propose('a', `v${i}`);
  c.stabilize();
  return c;
}

/** The leader takes a snapshot at its applied index and compacts its store and core to `to`. */
function snapshotAndCompact(c: TestCluster, to: number): number {
  const a = c.node('a');
  const index = a.raw.status().appliedIndex;
  const meta = { index, term: a.raw.term(index), voters: ids };
  persist(a.store, meta, [], null);
  a.raw.snapshotTaken(meta);
  compactStore(a.store, to);
  a.raw.compact(to);
  return index;
}

const snapshotsTo = (c: TestCluster, id: string): Message[] => {
  const seen: Message[] = [];
  c.dropIf = (m) => {
    if (m.type === 'snapshot' && m.to === id) seen.push(m);
    return false;
  };
  return seen;
};

describe('§7 snapshots and the trailing log', () => {
  test('a follower lagging by less than the trailing margin catches up from the log: no snapshot is sent', () => {
    const c = cutOff(10); // c holds at most the no-op at 1; a holds 1..11
    const snap = snapshotAndCompact(c, 1); // snapshot at 11, log kept from 2 on (trailing 10)
    expect(snap).toBe(11);
    expect(c.node('a').raw.status().snapshotIndex).toBe(11);
    const seen = snapshotsTo(c, 'c');
    c.tick('a', 3);
    c.stabilize();
    expect(seen).toHaveLength(0);
    expect(c.status('c')).toMatchObject({ commitIndex: 11, snapshotIndex: 0 });
    expect(c.node('c').applied.map((e) => e.data)).toEqual(['', ...Array.from({ length: 10 }, (_, i) => `v${i}`)]);
  });

  test('a follower partitioned while the leader compacts past it catches up through a snapshot', () => {
    const c = cutOff(10);
    snapshotAndCompact(c, 9); // trailing 2: c (at <= 1) needs compacted entries
    const seen = snapshotsTo(c, 'c');
    c.tick('a', 3);
    c.stabilize();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'snapshot', meta: { index: 11 } });
    expect(c.status('c')).toMatchObject({ snapshotIndex: 11, commitIndex: 11 });
  });

  test('a snapshot older than what the follower has committed is ignored; the follower says how far it is', () => {
    const c = cutOff(0);
    c.dropIf = () => false;
    for (let i = 0; i < 5; i++) c.propose('a', `v${i}`);
    c.stabilize(); // everyone at 6
    const b = c.node('b');
    const before = { ...b.raw.status() };
    b.raw.step({ type: 'snapshot', from: 'a', to: 'b', term: b.raw.status().term, meta: { index: 3, term: 1, voters: ids } });
    const rd = b.raw.ready();
    expect(rd.snapshot).toBeNull();
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResponse', success: true, index: 6 })]);
    b.raw.advance(rd);
    expect(b.raw.status()).toMatchObject({ lastIndex: before.lastIndex, snapshotIndex: before.snapshotIndex, commitIndex: 6 });
  });

  test('a follower whose log matches the snapshot keeps its suffix instead of installing it', () => {
    const c = cutOff(0);
    c.dropIf = () => false;
    for (let i = 0; i < 5; i++) c.propose('a', `v${i}`);
    // b gets the entries but not the new commit index.
    c.dropIf = (m) => m.to === 'b' && m.type === 'heartbeat';
    c.stabilize();
    const b = c.node('b');
    const term = b.raw.status().term;
    expect(b.raw.status().lastIndex).toBe(6);
    b.raw.step({ type: 'snapshot', from: 'a', to: 'b', term, meta: { index: 4, term, voters: ids } });
    const rd = b.raw.ready();
    expect(rd.snapshot).toBeNull(); // no install: the log already holds it
    b.raw.advance(rd);
    expect(b.raw.status()).toMatchObject({ lastIndex: 6, snapshotIndex: 0 });
    expect(b.raw.status().commitIndex).toBeGreaterThanOrEqual(4);
    expect(b.raw.entries(5, 7).map((e) => e.index)).toEqual([5, 6]); // the suffix is kept
  });

  test('a restarted node with a trailing log (compacted below its snapshot) restores both and serves its log', () => {
    const c = cutOff(10);
    snapshotAndCompact(c, 6);
    const a = c.restart('a');
    expect(a.raw.status()).toMatchObject({ snapshotIndex: 11, lastIndex: 11 });
    expect(a.raw.term(6)).toBe(1); // the compaction point's term is known
    expect(a.raw.entries(7, 12).map((e) => e.index)).toEqual([7, 8, 9, 10, 11]);
    expect(() => a.raw.entries(6, 7)).toThrow(expect.objectContaining({ code: 'RAFT_COMPACTED' }));
  });
});
