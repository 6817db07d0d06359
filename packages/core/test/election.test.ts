import { describe, expect, test } from 'vitest';
import { RawNode, seededRandom } from '../src/consensus/index.js';
import type { Message, VoteRequest } from '../src/consensus/types.js';
import { TestCluster } from './helpers/cluster.js';

const ids = ['a', 'b', 'c'];

describe('Raft §5.2 leader election', () => {
  test('§5.2 a follower that hears no leader campaigns after a randomized timeout in [E, 2E)', () => {
    const timeouts = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const c = new TestCluster(ids, { preVote: false }, seed);
      let ticks = 0;
      while (c.status('a').role === 'follower') {
        c.tick('a');
        ticks++;
        expect(ticks).toBeLessThan(20);
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(c.status('a').role).toBe('candidate');
      expect(c.status('a').term).toBe(1);
      timeouts.add(ticks);
    }
    // Randomization: different seeds give different timeouts (split votes resolve).
    expect(timeouts.size).toBeGreaterThan(3);
  });

  test('§5.2 a candidate with a majority of votes becomes leader; the others learn of it', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    expect(c.leaders()).toEqual(['a']);
    for (const id of ids) {
      expect(c.status(id).leader).toBe('a');
      expect(c.status(id).term).toBe(1);
    }
  });

  test('§5.2 the vote is persisted in the same Ready as the response that grants it', () => {
    const c = new TestCluster(ids, { preVote: false });
    c.node('a').raw.campaign();
    c.flush('a');
    const req = c.take((m) => m.to === 'b')[0]!;
    const b = c.node('b').raw;
    b.step(req);
    const rd = b.ready();
    const resp = rd.messages.find((m) => m.type === 'voteResponse');
    expect(resp).toMatchObject({ granted: true, to: 'a' });
    expect(rd.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
    b.advance(rd);
  });

  test('§5.2 one vote per term, and the vote survives a restart', () => {
    const c = new TestCluster(ids, { preVote: false });
    c.node('a').raw.campaign();
    c.flush('a');
    c.deliver(c.take((m) => m.to === 'b')[0]!);
    expect(c.take((m) => m.to === 'a')[0]).toMatchObject({ type: 'voteResponse', granted: true });
    c.take();
    c.restart('b');
    // c campaigns in the same term 1 (forced: its own term is 0 -> 1).
    c.node('c').raw.campaign();
    c.flush('c');
    c.deliver(c.take((m) => m.to === 'b')[0]!);
    const resp = c.take((m) => m.to === 'c' && m.type === 'voteResponse')[0];
    expect(resp).toMatchObject({ granted: false, term: 1 });
    expect(c.status('b').vote).toBe('a');
  });

  test('§5.2 a candidate returns to follower when a leader of its term appears', () => {
    const c = new TestCluster(ids, { preVote: false });
    c.node('a').raw.campaign();
    c.flush('a');
    const toC = c.take((m) => m.to === 'c');
    c.node('b').raw.campaign(); // b also campaigns in term 1
    c.flush('b');
    c.take((m) => m.from === 'b');
    c.deliver(toC[0]!); // c votes for a
    c.stabilize();
    expect(c.status('a').role).toBe('leader');
    expect(c.status('b').role).toBe('follower');
    expect(c.status('b').leader).toBe('a');
  });

  test('§5.1 a leader that sees a higher term steps down', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.node('a').raw.step({ type: 'heartbeatResponse', from: 'b', to: 'a', term: 5, context: 0 });
    expect(c.status('a')).toMatchObject({ role: 'follower', term: 5, leader: null });
  });

  test('§5.2 after a split vote, a new election at a higher term elects a leader', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd'], { preVote: false });
    c.node('a').raw.campaign();
    c.node('b').raw.campaign();
    c.flushAll();
    // a gets c's vote, b gets d's vote: 2-2, nobody has 3.
    c.queue = c.queue.filter((m) => !(m.type === 'vote' && ((m.from === 'a' && m.to === 'd') || (m.from === 'b' && m.to === 'c'))));
    c.stabilize();
    expect(c.leaders()).toEqual([]);
    for (let i = 0; i < 40 && c.leaders().length === 0; i++) {
      for (const id of c.ids) c.tick(id);
      c.stabilize();
    }
    expect(c.leaders()).toHaveLength(1);
    expect(c.status(c.leaders()[0]!).term).toBeGreaterThanOrEqual(2);
  });
});

describe('Raft §5.4.1 election restriction', () => {
  function voteFor(lastLogIndex: number, lastLogTerm: number): boolean {
    const c = new TestCluster(ids, { preVote: false });
    c.elect('a');
    c.propose('a', 'x');
    c.stabilize(); // b holds [1:noop, 1:x]
    c.tick('b', 30); // b stops hearing the leader only if it is cut off
    const b = c.node('b').raw;
    const req: VoteRequest = { type: 'vote', from: 'c', to: 'b', term: 9, preVote: false, lastLogIndex, lastLogTerm };
    b.step(req);
    const rd = b.ready();
    b.advance(rd);
    const resp = rd.messages.find((m) => m.type === 'voteResponse' && m.to === 'c') as Extract<Message, { type: 'voteResponse' }>;
    return resp.granted;
  }

  test('§5.4.1 rejects a candidate whose last term is lower', () => {
    expect(voteFor(10, 0)).toBe(false);
  });
  test('§5.4.1 rejects a candidate with the same last term and a shorter log', () => {
    expect(voteFor(1, 1)).toBe(false);
  });
  test('§5.4.1 grants a candidate with the same last term and as long a log', () => {
    expect(voteFor(2, 1)).toBe(true);
  });
  test('§5.4.1 grants a candidate with a higher last term even if shorter', () => {
    expect(voteFor(1, 2)).toBe(true);
  });
});

describe('thesis §9.6 pre-vote and check-quorum', () => {
  function isolatedTerm(preVote: boolean): number {
    const c = new TestCluster(ids, { preVote });
    c.elect('a');
    // c is partitioned away for a long time.
    c.dropIf = (m) => m.to === 'c' || m.from === 'c';
    for (let i = 0; i < 100; i++) {
      for (const id of ids) c.tick(id);
      c.stabilize();
    }
    return c.status('c').term;
  }

  test('§9.6 with pre-vote, a partitioned node does not inflate its term', () => {
    expect(isolatedTerm(true)).toBe(1);
  });

  test('§9.6 without pre-vote, the same node bumps its term every election timeout', () => {
    expect(isolatedTerm(false)).toBeGreaterThan(3);
  });

  test('§9.6 a rejoining node with pre-vote does not disrupt the leader', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.dropIf = (m) => m.to === 'c' || m.from === 'c';
    for (let i = 0; i < 100; i++) {
      for (const id of ids) c.tick(id);
      c.stabilize();
    }
    c.dropIf = () => false;
    for (let i = 0; i < 50; i++) {
      for (const id of ids) c.tick(id);
      c.stabilize();
    }
    expect(c.leaders()).toEqual(['a']);
    expect(c.status('a').term).toBe(1);
    expect(c.status('c').leader).toBe('a');
  });

  test('check-quorum: a leader that hears from no majority within an election timeout steps down', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.dropIf = (m) => m.from === 'a' || m.to === 'a';
    let ticks = 0;
    while (c.status('a').role === 'leader') {
      c.tick('a');
      ticks++;
      expect(ticks).toBeLessThanOrEqual(20);
    }
    expect(c.status('a').role).toBe('follower');
    expect(c.status('a').leader).toBeNull();
  });

  test('check-quorum off: an isolated leader stays leader', () => {
    const c = new TestCluster(ids, { checkQuorum: false });
    c.elect('a');
    c.dropIf = (m) => m.from === 'a' || m.to === 'a';
    c.tick('a', 50);
    expect(c.status('a').role).toBe('leader');
  });

  test('§4.2.3 a follower that hears from its leader ignores a disruptive vote request', () => {
    const c = new TestCluster(ids, { preVote: false });
    c.elect('a');
    const b = c.node('b').raw;
    b.step({ type: 'vote', from: 'c', to: 'b', term: 7, preVote: false, lastLogIndex: 100, lastLogTerm: 7 });
    expect(b.status().term).toBe(1);
    expect(b.hasReady()).toBe(false);
  });
});

describe('leader hint', () => {
  test('every node reports the leader; a follower refuses proposals naming it', () => {
    const c = new TestCluster(ids);
    c.elect('b');
    for (const id of ids) expect(c.status(id).leader).toBe('b');
    let err: unknown;
    try {
      c.node('a').raw.propose(new Uint8Array([1]));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'RAFT_NOT_LEADER', leaderHint: 'b' });
  });

  test('a single-node cluster elects itself and commits alone', () => {
    const n = new RawNode({ id: 'solo', voters: ['solo'], random: seededRandom(1) });
    const applied: number[] = [];
    const drain = () => {
      while (n.hasReady()) {
        const rd = n.ready();
        applied.push(...rd.committedEntries.map((e) => e.index));
        n.advance(rd);
      }
    };
    for (let i = 0; i < 25 && n.status().role !== 'leader'; i++) {
      n.tick();
      drain();
    }
    expect(n.status().role).toBe('leader');
    n.propose(new Uint8Array([7]));
    drain();
    expect(applied).toEqual([1, 2]);
    expect(n.status().commitIndex).toBe(2);
  });
});
