import { describe, expect, test } from 'vitest';
import { RawNode, seededRandom } from '../src/consensus/index.js';
import { decodeConfEntry } from '../src/consensus/membership/entry.js';
import { EntryType } from '../src/consensus/types.js';
import { TestCluster } from './helpers/cluster.js';
import { addLearner, addVoter, change, electAmong, heal, isolate, learnersOf, removeNode, tickAll, votersOf } from './helpers/membership.js';

describe('thesis §4.1 the configuration lives in the log', () => {
  test('§4.1 the first leader writes the bootstrap configuration as entry 1; a restart reads it from the log, not from RaftConfig.voters', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    const [first] = c.node('b').raw.entries(1, 2);
    expect(first!.type).toBe(EntryType.ConfChange);
    expect(decodeConfEntry(first!.data).config.voters).toEqual(['a', 'b', 'c']);
    // Restarted with another command line: the log wins.
    const store = c.node('b').store;
    const raw = new RawNode(
      { id: 'b', voters: ['b', 'x', 'y'], random: seededRandom(1) },
      { hardState: store.hardState, entries: store.entries, snapshot: store.snapshot },
    );
    expect(raw.membership()).toMatchObject({ index: 1, config: { voters: ['a', 'b', 'c'] } });
  });

  test('§4.1 a configuration takes effect when appended, before it commits; a truncated one gives way to the older one', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.join('d');
    isolate(c, 'a');
    const index = change(c, 'a', addLearner('d'));
    expect(c.status('a').membership).toMatchObject({ index, committed: false, config: { learners: ['d'] } });
    expect(c.status('a').progress['d']).toBeDefined(); // the leader replicates to it at once
    // b or c leads a new term without that entry; a rejoins and its uncommitted change is replaced.
    const next = electAmong(c, ['b', 'c']);
    heal(c);
    c.tick(next);
    c.stabilize();
    expect(c.status('a').role).toBe('follower');
    expect(c.status('a').membership).toMatchObject({ index: 1, config: { learners: [] } });
    expect(c.node('a').raw.entries(index, index + 1)[0]!.type).toBe(EntryType.Noop);
  });
});

describe('thesis §4.2.1 learners (non-voting members)', () => {
  function withLearner(): TestCluster {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.join('d');
    change(c, 'a', addLearner('d'));
    c.stabilize();
    return c;
  }

  test('§4.2.1 a new node added as a learner receives the whole log and knows itself a learner', () => {
    const c = withLearner();
    c.propose('a', 'x');
    c.stabilize();
    expect(learnersOf(c, 'd')).toEqual(['d']);
    expect(c.node('d').applied.map((e) => e.data)).toEqual(c.node('a').applied.map((e) => e.data));
    expect(c.node('d').applied.at(-1)!.data).toBe('x');
  });

  test('§4.2.1 a learner never counts toward commitment, even when it holds the entry', () => {
    const c = withLearner();
    isolate(c, 'b', 'c');
    const index = c.propose('a', 'x');
    c.stabilize();
    expect(c.status('a').progress['d']!.match).toBe(index);
    expect(c.status('a').commitIndex).toBeLessThan(index);
  });

  test('§4.2.1 a learner never campaigns, and a candidate neither asks learners nor counts their votes', () => {
    const c = withLearner();
    isolate(c, 'a', 'b', 'c', 'd');
    c.tick('d', 100);
    expect(c.status('d').role).toBe('follower');
    expect(c.status('d').term).toBe(c.status('a').term);
    // A candidate asks the voters only; forged grants from a learner do not elect it.
    const cb = new TestCluster(['a', 'b', 'c'], { preVote: false });
    cb.elect('a');
    cb.join('d');
    change(cb, 'a', addLearner('d'));
    cb.stabilize();
    cb.node('b').raw.campaign();
    cb.flush('b');
    const asks = cb.take((m) => m.from === 'b' && m.type === 'vote');
    expect(asks.map((m) => m.to).sort()).toEqual(['a', 'c']);
    const term = cb.status('b').term;
    cb.deliver({ type: 'voteResponse', from: 'd', to: 'b', term, preVote: false, granted: true });
    expect(cb.status('b').role).toBe('candidate');
  });

  test('§4.2.1 learners neither confirm reads nor keep a leader in office (check-quorum)', () => {
    const c = withLearner();
    isolate(c, 'b', 'c');
    c.node('a').raw.readIndex('r1');
    c.flush('a');
    c.stabilize();
    expect(c.node('a').readStates).toEqual([]);
    for (let i = 0; i < 25 && c.status('a').role === 'leader'; i++) {
      c.tick('a');
      c.stabilize(); // d answers every heartbeat
    }
    expect(c.status('a').role).toBe('follower');
  });

  test('§4.2.1 promoting a learner that lags is refused with RAFT_LEARNER_BEHIND; once caught up it becomes a voter', () => {
    const c = withLearner();
    c.dropIf = (m) => m.to === 'd';
    for (let i = 0; i < 20; i++) c.propose('a', `x${i}`);
    c.stabilize();
    expect(() => change(c, 'a', addVoter('d'), { maxLearnerLag: 5 })).toThrow(expect.objectContaining({ code: 'RAFT_LEARNER_BEHIND' }));
    expect(learnersOf(c, 'a')).toEqual(['d']); // nothing appended
    heal(c);
    c.tick('a');
    c.stabilize();
    const index = change(c, 'a', addVoter('d'), { maxLearnerLag: 5 });
    c.stabilize();
    expect(c.status('a').commitIndex).toBeGreaterThanOrEqual(index);
    for (const id of ['a', 'd']) expect(votersOf(c, id)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('thesis §4.2 single-server changes: one at a time', () => {
  test('§4.2 a second change is refused while the first is uncommitted (RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS)', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    isolate(c, 'b', 'c');
    change(c, 'a', addLearner('d'));
    expect(() => change(c, 'a', addLearner('e'))).toThrow(expect.objectContaining({ code: 'RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS' }));
  });

  test('§4.2 a new leader may change the membership only once an entry of its own term is committed', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    isolate(c, 'a');
    const cut = c.dropIf;
    c.dropIf = (m) => cut(m) || m.type === 'appendResponse';
    const b = electAmong(c, ['b', 'c']); // it leads; its first entry is not committed yet
    expect(() => change(c, b, addLearner('d'))).toThrow(expect.objectContaining({ code: 'RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS' }));
    heal(c);
    c.tick(b);
    c.stabilize();
    expect(() => change(c, b, addLearner('d'))).not.toThrow();
  });

  test('refused changes name the problem and append nothing', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    const last = c.status('a').lastIndex;
    expect(() => change(c, 'a', addVoter('b'))).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT', message: expect.stringContaining('already a voter') }));
    expect(() => change(c, 'a', removeNode('z'))).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT', message: expect.stringContaining('not a member') }));
    expect(() => change(c, 'b', addLearner('d'))).toThrow(expect.objectContaining({ code: 'RAFT_NOT_LEADER' }));
    expect(() => change(c, 'a', addLearner('d'), { addresses: { d: '' } })).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' }));
    expect(c.status('a').lastIndex).toBe(last);
  });

  test('addresses travel with the change and are dropped with the member', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.join('d');
    change(c, 'a', addLearner('d'), { addresses: { d: 'http://127.0.0.1:9004' } });
    c.stabilize();
    expect(c.status('b').membership.addresses).toEqual({ d: 'http://127.0.0.1:9004' });
    change(c, 'a', removeNode('d'));
    c.stabilize();
    expect(c.status('b').membership.addresses).toEqual({});
  });
});

describe('removing members (thesis §4.2.2)', () => {
  test('§4.2.2 a leader that removes itself leads until the change commits, then steps down and hands over at once', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    const term = c.status('a').term;
    isolate(c, 'b', 'c');
    change(c, 'a', removeNode('a'));
    expect(c.status('a').role).toBe('leader'); // uncommitted: it still manages the cluster
    heal(c);
    c.tick('a');
    c.stabilize(); // no election timeout passes: the heir campaigns on TimeoutNow
    expect(c.status('a').role).toBe('follower');
    const leaders = c.leaders();
    expect(leaders).toHaveLength(1);
    expect(['b', 'c']).toContain(leaders[0]);
    expect(c.status(leaders[0]!).term).toBe(term + 1);
    expect(votersOf(c, leaders[0]!)).toEqual(['b', 'c']);
    c.tick('a', 100);
    expect(c.status('a').role).toBe('follower'); // a removed node never campaigns
  });

  test('a 2-node cluster shrinks to 1 either way: removing the follower, or the leader', () => {
    const c = new TestCluster(['a', 'b']);
    c.elect('a');
    const index = change(c, 'a', removeNode('b'));
    c.stabilize();
    expect(c.status('a').commitIndex).toBeGreaterThanOrEqual(index);
    isolate(c, 'b');
    const x = c.propose('a', 'alone');
    expect(c.status('a').commitIndex).toBe(x); // its own vote is the quorum now

    const d = new TestCluster(['a', 'b']);
    d.elect('a');
    change(d, 'a', removeNode('a'));
    d.stabilize();
    expect(d.leaders()).toEqual(['b']);
    const y = d.propose('b', 'alone');
    d.stabilize();
    expect(d.status('b').commitIndex).toBe(y);
  });

  test('a removed node that never learnt of its removal cannot disrupt the cluster (pre-vote and check-quorum)', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd']);
    c.elect('a');
    isolate(c, 'd');
    change(c, 'a', removeNode('d'));
    c.stabilize();
    expect(votersOf(c, 'a')).toEqual(['a', 'b', 'c']);
    expect(votersOf(c, 'd')).toEqual(['a', 'b', 'c', 'd']); // d still believes it votes
    const term = c.status('a').term;
    c.tick('d', 50); // d times out and campaigns, cut off
    heal(c);
    tickAll(c, 60); // d keeps campaigning, now heard by everyone
    expect(c.leaders()).toEqual(['a']);
    for (const id of ['a', 'b', 'c']) expect(c.status(id).term).toBe(term);
  });
});

describe('thesis §4.3 joint consensus', () => {
  /** a,b,c voters plus learners d,e, every change committed. */
  function fiveWithLearners(overrides = {}): TestCluster {
    const c = new TestCluster(['a', 'b', 'c'], overrides);
    c.elect('a');
    c.join('d');
    c.join('e');
    change(c, 'a', { changes: [{ type: 'addLearner', node: 'd' }, { type: 'addLearner', node: 'e' }] });
    c.stabilize();
    return c;
  }
  const swap = { changes: [{ type: 'addVoter', node: 'd' }, { type: 'addVoter', node: 'e' }, { type: 'removeNode', node: 'b' }, { type: 'removeNode', node: 'c' }] } as const;

  test('§4.3 a change of two voters goes joint: entries commit only on a majority of the old AND the new voters; then it is left by itself', () => {
    const c = fiveWithLearners();
    c.dropIf = (m) => m.to === 'd' || m.to === 'e';
    const joint = change(c, 'a', swap);
    c.stabilize();
    expect(c.status('a').membership.config).toMatchObject({ voters: ['a', 'd', 'e'], votersOutgoing: ['a', 'b', 'c'], autoLeave: true });
    expect(c.status('b').lastIndex).toBeGreaterThanOrEqual(joint); // held by the whole of C_old
    expect(c.status('a').commitIndex).toBeLessThan(joint); // but not by a majority of C_new
    heal(c);
    c.tick('a');
    c.stabilize();
    const m = c.status('a').membership;
    expect(m.index).toBeGreaterThan(joint); // auto-leave appended C_new...
    expect(m).toMatchObject({ committed: true, config: { voters: ['a', 'd', 'e'], votersOutgoing: [], learners: [] } }); // ...and committed it
    for (const id of ['d', 'e']) expect(votersOf(c, id)).toEqual(['a', 'd', 'e']);
  });

  test('§4.3 in C_old,new a candidate needs a majority of both: the old voters alone, or the new alone, elect no one', () => {
    const c = fiveWithLearners({ preVote: false });
    change(c, 'a', { ...swap, transition: 'joint-explicit' });
    c.stabilize();
    expect(c.status('b').membership.config.votersOutgoing).toEqual(['a', 'b', 'c']);
    isolate(c, 'a', 'b', 'c', 'd', 'e');
    c.node('b').raw.campaign();
    c.flush('b');
    const term = c.status('b').term;
    const grant = (from: string): void => c.deliver({ type: 'voteResponse', from, to: 'b', term, preVote: false, granted: true });
    grant('c'); // b + c: a majority of C_old
    expect(c.status('b').role).toBe('candidate');
    grant('d'); // 1 of C_new
    expect(c.status('b').role).toBe('candidate');
    grant('e'); // d + e: a majority of C_new too
    expect(c.status('b').role).toBe('leader');
  });

  test('§4.3 a leader that crashes in C_old,new leaves a cluster that finishes the change', () => {
    const c = fiveWithLearners();
    c.dropIf = (m) => m.type === 'appendResponse'; // the joint entry spreads but never commits
    const joint = change(c, 'a', { ...swap, changes: [...swap.changes.slice(0, 3), { type: 'removeNode', node: 'a' }] });
    c.stabilize();
    for (const id of ['b', 'c', 'd', 'e']) expect(c.status(id).lastIndex).toBeGreaterThanOrEqual(joint);
    isolate(c, 'a'); // the leader is gone for good
    for (let i = 0; i < 200 && c.leaders().filter((l) => l !== 'a').length === 0; i++) {
      for (const id of ['b', 'c', 'd', 'e']) c.tick(id);
      c.stabilize();
    }
    const leader = c.leaders().find((l) => l !== 'a')!;
    expect(['b', 'c', 'd', 'e']).toContain(leader);
    tickAll(c, 3);
    // (b, removed, need not learn that the change was left: nobody replicates to it any more.)
    for (const id of ['c', 'd', 'e']) {
      expect(c.status(id).membership).toMatchObject({ committed: true, config: { voters: ['c', 'd', 'e'], votersOutgoing: [] } });
    }
  });

  test('§4.3 while joint, no other change may start until it is left', () => {
    const c = fiveWithLearners();
    change(c, 'a', { ...swap, transition: 'joint-explicit' });
    c.stabilize();
    expect(() => change(c, 'a', removeNode('d'))).toThrow(expect.objectContaining({ code: 'RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS' }));
    change(c, 'a', { changes: [] }); // leaving explicitly
    c.stabilize();
    expect(votersOf(c, 'a')).toEqual(['a', 'd', 'e']);
    expect(c.status('a').membership.config.votersOutgoing).toEqual([]);
  });
});

describe('overlapping single-server changes (Ongaro, raft-dev 2015)', () => {
  /**
   * {a,b,c,d}: a appends C1 = add e (only e gets it); b is elected in term 2 without it and,
   * at once, appends C2 = remove a, committed by {b,c} in C2. Then a, with C1, is elected
   * by {a,d,e} (a majority of C1's five): if C2 was allowed, a lacks a committed entry.
   */
  function scenario(overlapping: boolean): { committedAtB: { index: number; term: number }[]; leaderA: RawNode; refused: unknown } {
    const c = new TestCluster(['a', 'b', 'c', 'd'], { preVote: false, checkQuorum: false, testingBugs: { overlappingConfChanges: overlapping } });
    c.elect('a');
    c.join('e', { testingBugs: { overlappingConfChanges: overlapping } });
    c.dropIf = (m) => m.from === 'a' && m.to !== 'e';
    change(c, 'a', addVoter('e'));
    c.stabilize();
    // a and e drop out; b is elected by b, c, d; d hears nothing from b after voting.
    c.dropIf = (m) => ['a', 'e'].includes(m.from) || ['a', 'e'].includes(m.to) || (m.from === 'b' && m.to === 'd' && m.type !== 'voteResponse' && m.type !== 'vote');
    c.elect('b');
    expect(c.status('b').role).toBe('leader');
    let refused: unknown = null;
    try {
      change(c, 'b', removeNode('a'));
    } catch (err) {
      refused = err;
    }
    c.stabilize();
    const b = c.status('b');
    const committedAtB = c.node('b').raw.entries(1, b.commitIndex + 1).map((e) => ({ index: e.index, term: e.term }));
    // a comes back, cut off from b and c: it campaigns with C1 and d and e vote for it.
    c.dropIf = (m) => ['b', 'c'].includes(m.from) || ['b', 'c'].includes(m.to);
    for (let i = 0; i < 3 && c.status('a').role !== 'leader'; i++) c.elect('a');
    return { committedAtB, leaderA: c.node('a').raw, refused };
  }

  test('with the guard, the new leader may not change the membership before its own entry commits, and no committed entry is lost', () => {
    const { committedAtB, leaderA, refused } = scenario(false);
    expect(refused).toMatchObject({ code: 'RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS' });
    expect(leaderA.status().role).toBe('leader');
    for (const e of committedAtB) expect(leaderA.term(e.index)).toBe(e.term);
  });

  test('planted bug overlappingConfChanges: a later leader lacks an entry committed under the other configuration', () => {
    const { committedAtB, leaderA, refused } = scenario(true);
    expect(refused).toBeNull();
    expect(leaderA.status().role).toBe('leader');
    const lost = committedAtB.filter((e) => leaderA.term(e.index) !== e.term);
    expect(lost.length).toBeGreaterThan(0); // leader completeness broken
  });
});

describe('configuration entries', () => {
  test('addresses survive encoding for any member id, __proto__ included', async () => {
    const { encodeConfEntry, decodeConfEntry, pruneAddresses } = await import('../src/consensus/membership/entry.js');
    const { bootstrapConfig } = await import('../src/consensus/membership/config.js');
    const config = bootstrapConfig(['__proto__', 'a']);
    const addresses = JSON.parse('{"__proto__":"http://x:1","a":"http://a:1"}') as Record<string, string>;
    const back = decodeConfEntry(encodeConfEntry({ config, addresses: pruneAddresses(config, addresses) }));
    expect(Object.entries(back.addresses).sort()).toEqual([['__proto__', 'http://x:1'], ['a', 'http://a:1']]);
  });

  test('a corrupt configuration entry is refused with RAFT_STORAGE_CORRUPT naming the problem', async () => {
    const { decodeConfEntry } = await import('../src/consensus/membership/entry.js');
    const enc = new TextEncoder();
    expect(() => decodeConfEntry(new Uint8Array([0xff]))).toThrow(expect.objectContaining({ code: 'RAFT_STORAGE_CORRUPT' }));
    const bad = { v: 1, config: { voters: ['a'], votersOutgoing: [], learners: ['a'], learnersNext: [], autoLeave: false }, addresses: {} };
    expect(() => decodeConfEntry(enc.encode(JSON.stringify(bad)))).toThrow(expect.objectContaining({ code: 'RAFT_STORAGE_CORRUPT', message: expect.stringContaining('both a learner and a voter') }));
    expect(() => decodeConfEntry(enc.encode('{"v":2}'))).toThrow(expect.objectContaining({ message: expect.stringContaining('unknown version') }));
  });
});

describe('who may campaign', () => {
  test('a learner\'s election timer does not restart: it stops honouring a dead leader after one timeout', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.join('d');
    change(c, 'a', addLearner('d'));
    c.stabilize();
    isolate(c, 'a');
    c.tick('d', 40);
    // A vote request for a later term now reaches d's vote (a learner may vote: the candidate's
    // configuration may be newer than its own).
    const term = c.status('d').term;
    c.deliver({ type: 'vote', from: 'b', to: 'd', term: term + 1, preVote: false, lastLogIndex: 99, lastLogTerm: term });
    expect(c.status('d').term).toBe(term + 1);
  });

  test('§4.2.2 a node whose removal is not committed may still campaign, to elect the leader that commits it', () => {
    // {a,b}: a removes itself, only a holds the change, a loses leadership before it commits.
    const c = new TestCluster(['a', 'b'], { preVote: false, checkQuorum: false });
    c.elect('a');
    isolate(c, 'b');
    change(c, 'a', removeNode('a'));
    c.flush('a');
    c.restart('a'); // a loses its leadership; b cannot win without a's vote, nor a without b's
    heal(c);
    c.stabilize();
    for (let i = 0; i < 100 && c.status('b').membership.config.voters.join() !== 'b'; i++) tickAll(c, 1);
    expect(votersOf(c, 'b')).toEqual(['b']);
    expect(c.status('b').membership.committed).toBe(true);
  });
});

test('bootstrap addresses go into the log with the bootstrap configuration', () => {
  const c = new TestCluster(['a', 'b', 'c'], { bootstrapAddresses: { a: 'http://a:1', b: 'http://b:1', c: 'http://c:1', zz: 'http://zz:1' } });
  c.elect('a');
  const [first] = c.node('c').raw.entries(1, 2);
  expect(decodeConfEntry(first!.data).addresses).toEqual({ a: 'http://a:1', b: 'http://b:1', c: 'http://c:1' });
  expect(() => new RawNode({ id: 'a', voters: ['a'], random: Math.random, bootstrapAddresses: { a: '' } })).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_CONFIG' }));
});
