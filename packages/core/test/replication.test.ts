import { describe, expect, test } from 'vitest';
import { EntryType, type Entry, type Message } from '../src/consensus/types.js';
import { TestCluster, bytes, newStore, type DurableStore } from './helpers/cluster.js';

const ids = ['a', 'b', 'c'];
const entry = (index: number, term: number, data = `${index}@${term}`): Entry => ({ index, term, type: EntryType.Normal, data: bytes(data) });
const run = (from: number, to: number, term: number): Entry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
const store = (term: number, entries: Entry[], commit = 0): DurableStore => ({ ...newStore(), hardState: { term, vote: null, commit }, entries });

/** Replaces the cluster's nodes with ones restarted from the given stores. */
function withStores(ids: string[], stores: Record<string, DurableStore>, overrides = {}): TestCluster {
  // Restarted nodes refuse votes for an election timeout (lease safety); these scenarios
  // elect at once, so they run without check-quorum, which that guard belongs to.
  const c = new TestCluster(ids, { preVote: false, checkQuorum: false, ...overrides });
  for (const id of ids) c.start(id, stores[id]!);
  return c;
}

describe('Raft §5.3 log replication', () => {
  test('§5.3 a proposal is replicated and commits once a majority stores it', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.dropIf = (m) => m.to === 'c';
    c.propose('a', 'x');
    c.stabilize();
    for (const id of ['a', 'b']) expect(c.node(id).applied.map((e) => e.data)).toEqual(['', 'x']);
    expect(c.status('a').commitIndex).toBe(2);
    expect(c.status('c').commitIndex).toBe(1);
    c.dropIf = () => false;
    c.tick('a');
    c.stabilize();
    expect(c.node('c').applied.map((e) => e.data)).toEqual(['', 'x']);
  });

  test('§5.3 a follower rejects AppendEntries whose previous entry does not match', () => {
    const c = withStores(ids, { a: store(2, []), b: store(2, [entry(1, 1)]), c: store(2, []) });
    const b = c.node('b').raw;
    b.step({ type: 'append', from: 'a', to: 'b', term: 2, prevIndex: 1, prevTerm: 2, entries: [entry(2, 2)], commit: 0 });
    const rd = b.ready();
    b.advance(rd);
    expect(rd.messages[0]).toMatchObject({ type: 'appendResponse', success: false, index: 1, conflictTerm: 1, conflictIndex: 1 });
    expect(rd.entries).toEqual([]);
    expect(b.status().lastIndex).toBe(1);
  });

  test('§5.3 conflicting entries are truncated and replaced by the leader\'s', () => {
    const c = withStores(ids, {
      a: store(3, [entry(1, 1), entry(2, 3), entry(3, 3)]),
      b: store(2, [entry(1, 1), entry(2, 2), entry(3, 2), entry(4, 2)]),
      c: store(3, [entry(1, 1), entry(2, 3), entry(3, 3)]),
    });
    c.elect('a');
    c.propose('a', 'new');
    c.stabilize();
    expect(c.logTerms('b')).toEqual([1, 3, 3, 4, 4]);
    expect(c.node('b').store.entries.map((e) => e.term)).toEqual([1, 3, 3, 4, 4]);
    expect(c.node('b').applied.map((e) => e.data)).toEqual(['1@1', '2@3', '3@3', '', 'new']);
  });

  function countRejections(leaderLog: Entry[], followerLog: Entry[]): { rejections: number; c: TestCluster } {
    const lastTerm = leaderLog[leaderLog.length - 1]!.term;
    const c = withStores(ids, { a: store(lastTerm, leaderLog, 1), b: store(lastTerm, followerLog, 1), c: store(lastTerm, leaderLog, 1) });
    c.dropIf = (m) => m.to === 'b' && m.type === 'vote';
    let rejections = 0;
    const origDeliver = c.deliver.bind(c);
    c.deliver = (m: Message) => {
      if (m.type === 'appendResponse' && m.from === 'b' && !m.success) rejections++;
      origDeliver(m);
    };
    c.elect('a');
    c.dropIf = () => false;
    c.tick('a');
    c.stabilize();
    return { rejections, c };
  }

  test('§5.3 fast backtracking: a follower missing 1000 entries of one term is repaired in one round trip', () => {
    const { rejections, c } = countRejections([entry(1, 1), ...run(2, 1001, 2)], [entry(1, 1)]);
    expect(rejections).toBeLessThanOrEqual(1);
    expect(c.logTerms('b')).toEqual(c.logTerms('a'));
  });

  test('§5.3 fast backtracking: 300 conflicting entries over 3 terms take O(terms) round trips, not O(N)', () => {
    const leader = [entry(1, 1), ...run(2, 301, 5)];
    const follower = [entry(1, 1), ...run(2, 101, 2), ...run(102, 201, 3), ...run(202, 301, 4)];
    const { rejections, c } = countRejections(leader, follower);
    expect(rejections).toBeGreaterThan(0);
    expect(rejections).toBeLessThanOrEqual(4);
    expect(c.logTerms('b')).toEqual(c.logTerms('a'));
  });
});

describe('Raft §5.4.2 committing entries from previous terms (Figure 8)', () => {
  // (a)-(b): s1 led term 2 and stored index 2 on s2 only; s5 led term 3 and wrote its own index 2.
  function figure8(): TestCluster {
    const one = entry(1, 1);
    const c = withStores(['s1', 's2', 's3', 's4', 's5'], {
      s1: store(3, [one, entry(2, 2, 'old')], 1),
      s2: store(3, [one, entry(2, 2, 'old')], 1),
      s3: store(3, [one], 1),
      s4: store(3, [one], 1),
      s5: store(3, [one, entry(2, 3, 's5')], 1),
    });
    // (c): s1 is elected in term 4 (s2, s3, s4 vote for it); its first AppendEntries are lost.
    c.dropIf = (m) => m.type === 'append';
    c.elect('s1');
    expect(c.status('s1')).toMatchObject({ role: 'leader', term: 4 });
    c.dropIf = () => false;
    // s1 replicates index 2 (term 2) to s3: now a majority (s1, s2, s3) store it.
    for (const to of ['s2', 's3']) {
      c.node('s1').raw.step({ type: 'appendResponse', from: to, to: 's1', term: 4, success: true, index: 2, conflictTerm: 0, conflictIndex: 0 });
    }
    c.flush('s1');
    c.take();
    return c;
  }

  test('§5.4.2 a leader does not commit an entry of an earlier term by counting replicas', () => {
    const c = figure8();
    expect(c.status('s1').progress['s3']!.match).toBe(2);
    expect(c.status('s1').commitIndex).toBe(1);
  });

  test('§5.4.2 (d) that entry can indeed still be overwritten: s5 can win term 5 and replace it', () => {
    const c = figure8();
    c.dropIf = (m) => m.from === 's1' || m.to === 's1';
    c.elect('s5');
    expect(c.status('s5')).toMatchObject({ role: 'leader', term: 5 });
    expect(c.node('s2').raw.entries(2, 3)[0]!.term).toBe(3);
  });

  test('§5.4.2 (e) once an entry of the current term commits, the earlier one commits with it', () => {
    const c = figure8();
    for (const to of ['s2', 's3']) {
      c.node('s1').raw.step({ type: 'appendResponse', from: to, to: 's1', term: 4, success: true, index: 3, conflictTerm: 0, conflictIndex: 0 });
    }
    c.flush('s1');
    expect(c.status('s1').commitIndex).toBe(3);
    expect(c.node('s1').applied.map((e) => e.data)).toEqual(['1@1', 'old', '']);
  });
});

describe('pipelining and batching', () => {
  test('a follower in replicate state gets up to maxInflight AppendEntries without waiting', () => {
    const c = new TestCluster(ids, { maxInflight: 4 });
    c.elect('a');
    expect(c.status('a').progress['b']!.state).toBe('replicate');
    for (let i = 0; i < 10; i++) c.propose('a', `p${i}`);
    const toB = c.queue.filter((m) => m.to === 'b' && m.type === 'append');
    expect(toB).toHaveLength(4);
    // An acknowledgement frees a slot and the next batch goes out.
    c.take((m) => m.to === 'c');
    c.deliver(c.take((m) => m.to === 'b')[0]!);
    c.deliver(c.take((m) => m.to === 'a')[0]!);
    expect(c.queue.filter((m) => m.to === 'b' && m.type === 'append')).toHaveLength(1);
  });

  test('a rejection sends the follower back to probe state: one message at a time', () => {
    const c = new TestCluster(ids, { maxInflight: 4 });
    c.elect('a');
    c.propose('a', 'x');
    c.take();
    const a = c.node('a').raw;
    a.step({ type: 'appendResponse', from: 'b', to: 'a', term: 1, success: false, index: 2, conflictTerm: 0, conflictIndex: 2 });
    c.flush('a');
    expect(c.status('a').progress['b']!.state).toBe('probe');
    expect(c.take((m) => m.to === 'b' && m.type === 'append')).toHaveLength(1);
    c.propose('a', 'y');
    c.propose('a', 'z');
    expect(c.queue.filter((m) => m.to === 'b' && m.type === 'append')).toHaveLength(0);
  });

  test('proposals made before a Ready go to each follower as one batch in one message', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    const a = c.node('a').raw;
    for (let i = 0; i < 50; i++) a.propose(bytes(`p${i}`));
    a.propose(Array.from({ length: 50 }, (_, i) => bytes(`q${i}`)));
    c.flush('a');
    const appends = c.queue.filter((m): m is Extract<Message, { type: 'append' }> => m.type === 'append');
    expect(appends).toHaveLength(2);
    for (const m of appends) expect(m.entries).toHaveLength(100);
    c.stabilize();
    expect(c.node('c').applied).toHaveLength(101);
  });
});
