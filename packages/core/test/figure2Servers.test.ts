// Raft Figure 2, "Rules for Servers": one test per rule, driven through pure cores message by
// message and tick by tick. Timeouts are exactly electionTicks (random 0), so ticks can be
// counted. Nodes run the plain protocol (no pre-vote, no check-quorum) unless a test says so.
import { describe, expect, test } from 'vitest';
import { RaftNode } from '../src/runtime/raftNode.js';
import { bytes } from './helpers/cluster.js';
import { FakeNetwork, FakeStorage, LogMachine, ManualClock } from './helpers/fakes.js';
import { PaperNode, append, appendOk, log, ofType, stored, vote, voteGranted } from './helpers/paper.js';

const ids = ['a', 'b', 'c'];
const five = ['s1', 's2', 's3', 's4', 's5'];
const E = 10;

/** A leader of `term + 1` elected with c's vote, from a durable state at `term`. */
function leaderFrom(term: number, entries = log(1)): PaperNode {
  const a = new PaperNode('a', ids, stored({ term }, entries));
  a.raw.campaign();
  a.flush();
  a.step(voteGranted('c', 'a', term + 1));
  expect(a.raw.status().role).toBe('leader');
  return a;
}

describe('Figure 2 Rules for Servers: all servers', () => {
  test('Figure 2 All Servers rule 1 (§5.3): if commitIndex > lastApplied, apply the next entries in order, each once', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1, 1, 1)));
    b.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 2, context: 0 });
    b.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 3, context: 0 });
    b.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 3, context: 0 });
    expect(b.readies.flatMap((r) => r.committedEntries).map((e) => e.index)).toEqual([1, 2, 3]);
    expect(b.raw.status()).toMatchObject({ commitIndex: 3, appliedIndex: 3 });
    // lastApplied is volatile: a restarted node applies its committed entries again, from the start.
    const again = new PaperNode('b', ids, b.store);
    again.flush();
    expect(again.readies.flatMap((r) => r.committedEntries).map((e) => e.index)).toEqual([1, 2, 3]);
  });

  test('Figure 2 All Servers rule 2 (§5.1): a leader that sees a higher term in a response adopts it and becomes follower', () => {
    const a = leaderFrom(1);
    const rd = a.stepReady({ ...appendOk('b', 'a', 5, 2), success: false, index: 0 });
    expect(a.raw.status()).toMatchObject({ role: 'follower', term: 5, vote: null, leader: null });
    expect(rd.hardState).toMatchObject({ term: 5, vote: null });
    expect(rd.mustSync).toBe(true);
    expect(() => a.raw.propose(bytes('x'))).toThrow(expect.objectContaining({ code: 'RAFT_NOT_LEADER' }));
  });

  test('Figure 2 All Servers rule 2 (§5.1): a candidate that sees a higher term in a vote response adopts it and becomes follower', () => {
    const a = new PaperNode('a', ids, stored({ term: 1 }, log(1)));
    a.raw.campaign();
    a.flush();
    expect(a.raw.status()).toMatchObject({ role: 'candidate', term: 2 });
    a.step(voteGranted('b', 'a', 4, false));
    expect(a.raw.status()).toMatchObject({ role: 'follower', term: 4, vote: null });
    // Late grants of its old term no longer count.
    a.step(voteGranted('c', 'a', 2));
    expect(a.raw.status().role).toBe('follower');
  });

  test('Figure 2 All Servers rule 2 (§5.1): a follower adopts a higher term from a new leader, and from a candidate', () => {
    const b = new PaperNode('b', ids, stored({ term: 1, vote: 'a' }, log(1)));
    b.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, context: 0 });
    expect(b.raw.status()).toMatchObject({ term: 1, leader: 'a', vote: 'a' });
    b.step(append({ from: 'c', to: 'b', term: 3, prevIndex: 1, prevTerm: 1, entries: [] }));
    expect(b.raw.status()).toMatchObject({ role: 'follower', term: 3, leader: 'c', vote: null });
    // Plain protocol: a RequestVote of a higher term moves it too (check-quorum would ignore it
    // while the leader is heard from, thesis §4.2.3, see election.test.ts).
    b.step(vote({ from: 'a', to: 'b', term: 4, lastLogIndex: 0, lastLogTerm: 0 }));
    expect(b.raw.status()).toMatchObject({ role: 'follower', term: 4, leader: null, vote: null });
  });
});

describe('Figure 2 Rules for Servers: followers', () => {
  test('Figure 2 Followers rule 1 (§5.2): respond to RPCs from candidates and leaders', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    expect(b.step(vote({ from: 'c', to: 'b', term: 2, lastLogIndex: 1, lastLogTerm: 1 }))).toEqual([
      expect.objectContaining({ type: 'voteResponse', to: 'c', term: 2 }),
    ]);
    expect(b.step(append({ from: 'c', to: 'b', term: 2, prevIndex: 1, prevTerm: 1, entries: [] }))).toEqual([
      expect.objectContaining({ type: 'appendResponse', to: 'c', term: 2 }),
    ]);
    expect(b.step({ type: 'heartbeat', from: 'c', to: 'b', term: 2, commit: 0, context: 7 })).toEqual([
      expect.objectContaining({ type: 'heartbeatResponse', to: 'c', term: 2, context: 7 }),
    ]);
  });

  test('Figure 2 Followers rule 2 (§5.2): an election timeout without hearing from a leader makes a follower a candidate', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    expect(b.tick(E - 1)).toEqual([]);
    expect(b.raw.status().role).toBe('follower');
    b.tick();
    expect(b.raw.status()).toMatchObject({ role: 'candidate', term: 2, vote: 'b' });
  });

  test('Figure 2 Followers rule 2 (§5.2, thesis §9.6): with pre-vote (the default) the timeout first makes it a pre-candidate, term unchanged', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)), { preVote: true });
    b.tick(E - 1);
    const out = b.tick();
    expect(b.raw.status()).toMatchObject({ role: 'pre-candidate', term: 1 });
    expect(ofType(out, 'vote').map((m) => [m.to, m.term, m.preVote])).toEqual([['a', 2, true], ['c', 2, true]]);
  });

  test('Figure 2 Followers rule 2 (§5.2): hearing from the leader restarts the timeout', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    for (let round = 0; round < 5; round++) {
      b.tick(E - 1);
      b.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, context: 0 });
    }
    b.tick(E - 1);
    expect(b.raw.status()).toMatchObject({ role: 'follower', term: 1 });
    b.tick();
    expect(b.raw.status()).toMatchObject({ role: 'candidate', term: 2 });
  });

  test('Figure 2 Followers rule 2 (§5.2): granting a vote restarts the timeout; refusing one does not', () => {
    // Votes in the follower's own term, so no term change resets the timer on its own.
    const granting = new PaperNode('b', ids, stored({ term: 2 }, log(1)));
    granting.tick(E - 1);
    expect(granting.step(vote({ from: 'c', to: 'b', term: 2, lastLogIndex: 1, lastLogTerm: 1 }))).toEqual([expect.objectContaining({ granted: true })]);
    granting.tick(E - 1);
    expect(granting.raw.status().role).toBe('follower');
    granting.tick();
    expect(granting.raw.status()).toMatchObject({ role: 'candidate', term: 3 });

    const refusing = new PaperNode('b', ids, stored({ term: 2 }, log(1, 2)));
    refusing.tick(E - 1);
    expect(refusing.step(vote({ from: 'c', to: 'b', term: 2, lastLogIndex: 1, lastLogTerm: 1 }))).toEqual([expect.objectContaining({ granted: false })]);
    refusing.tick();
    expect(refusing.raw.status()).toMatchObject({ role: 'candidate', term: 3 });
  });
});

describe('Figure 2 Rules for Servers: candidates', () => {
  test('Figure 2 Candidates rule 1 (§5.2): on conversion increment the term, vote for self, reset the timer, send RequestVote to all others', () => {
    const b = new PaperNode('b', ids, stored({ term: 4 }, log(1, 3)));
    b.tick(E - 1);
    b.tick();
    const rd = b.readies[b.readies.length - 1]!;
    expect(rd.hardState).toMatchObject({ term: 5, vote: 'b' });
    expect(rd.mustSync).toBe(true);
    expect(ofType(rd.messages, 'vote').map((m) => ({ to: m.to, term: m.term, preVote: m.preVote, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm }))).toEqual([
      { to: 'a', term: 5, preVote: false, lastLogIndex: 2, lastLogTerm: 3 },
      { to: 'c', term: 5, preVote: false, lastLogIndex: 2, lastLogTerm: 3 },
    ]);
    // The timer restarted: the next election comes a full timeout later.
    b.tick(E - 1);
    expect(b.raw.status().term).toBe(5);
  });

  test('Figure 2 Candidates rule 1 (thesis §9.6): with pre-vote the term is incremented only once a majority would vote', () => {
    const b = new PaperNode('b', ids, stored({ term: 4 }, log(1)), { preVote: true });
    b.raw.campaign();
    b.flush();
    expect(b.raw.status()).toMatchObject({ role: 'pre-candidate', term: 4, vote: null });
    const rd = b.stepReady({ type: 'voteResponse', from: 'a', to: 'b', term: 5, preVote: true, granted: true });
    expect(b.raw.status()).toMatchObject({ role: 'candidate', term: 5, vote: 'b' });
    expect(rd.hardState).toMatchObject({ term: 5, vote: 'b' });
    expect(ofType(rd.messages, 'vote').every((m) => !m.preVote && m.term === 5)).toBe(true);
  });

  test('Figure 2 Candidates rule 2 (§5.2): votes from a majority make it leader; fewer do not, and refusals do not count', () => {
    const s1 = new PaperNode('s1', five, stored({ term: 1 }, log(1)));
    s1.raw.campaign();
    s1.flush();
    s1.step(voteGranted('s2', 's1', 2));
    s1.step(voteGranted('s3', 's1', 2, false));
    s1.step(voteGranted('s2', 's1', 2)); // a duplicate grant is one vote
    expect(s1.raw.status().role).toBe('candidate');
    s1.step(voteGranted('s4', 's1', 2));
    expect(s1.raw.status()).toMatchObject({ role: 'leader', term: 2, leader: 's1' });
  });

  test('Figure 2 Candidates rule 3 (§5.2): AppendEntries from the new leader of its term makes it a follower, and is processed', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    b.raw.campaign();
    b.flush();
    expect(b.raw.status()).toMatchObject({ role: 'candidate', term: 2 });
    const out = b.step(append({ from: 'c', to: 'b', term: 2, prevIndex: 1, prevTerm: 1, entries: log(1, 2).slice(1) }));
    expect(b.raw.status()).toMatchObject({ role: 'follower', term: 2, leader: 'c', vote: 'b' });
    expect(out).toEqual([expect.objectContaining({ type: 'appendResponse', success: true, index: 2 })]);
  });

  test('Figure 2 Candidates rule 4 (§5.2): if the election timeout elapses, start a new election in the next term', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    b.raw.campaign();
    b.flush();
    b.step(voteGranted('a', 'b', 2, false)); // a split vote: one refusal, c never answers
    expect(b.tick(E - 1)).toEqual([]);
    const out = b.tick();
    expect(b.raw.status()).toMatchObject({ role: 'candidate', term: 3, vote: 'b' });
    expect(ofType(out, 'vote').map((m) => [m.to, m.term])).toEqual([['a', 3], ['c', 3]]);
  });
});

describe('Figure 2 Rules for Servers: leaders', () => {
  test('Figure 2 Leaders rule 1 (§5.2): on election send AppendEntries to each server, then heartbeats that keep followers from timing out', () => {
    const a = new PaperNode('a', ids, stored({ term: 1 }, log(1)));
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    a.raw.campaign();
    a.flush();
    // The first AppendEntries carries the no-op entry of the new term (§8) rather than none.
    const first = ofType(a.step(voteGranted('c', 'a', 2)), 'append');
    expect(first.map((m) => [m.to, m.prevIndex, m.entries.map((e) => `${e.index}@${e.term}`)])).toEqual([['b', 1, ['2@2']], ['c', 1, ['2@2']]]);
    b.step(first[0]!);
    for (let i = 0; i < 3 * E; i++) {
      for (const hb of ofType(a.tick(), 'heartbeat')) if (hb.to === 'b') a.step(b.step(hb)[0]!);
      b.tick();
    }
    expect(b.raw.status()).toMatchObject({ role: 'follower', term: 2, leader: 'a' });
    expect(a.raw.status()).toMatchObject({ role: 'leader', term: 2 });
  });

  test('Figure 2 Leaders rule 2 (§5.3): a client command is appended to the leader\'s log and applied only once a majority stores it', () => {
    const a = leaderFrom(1);
    a.step(appendOk('c', 'a', 2, 2)); // the no-op commits
    const { index, term } = a.raw.propose(bytes('x'));
    expect({ index, term }).toEqual({ index: 3, term: 2 });
    a.flush();
    expect(a.logIds()).toEqual(['1@1', '2@2', '3@2']);
    const applied = () => a.readies.flatMap((r) => r.committedEntries).map((e) => e.index);
    expect(applied()).toEqual([1, 2]);
    a.step(appendOk('c', 'a', 2, 3));
    expect(applied()).toEqual([1, 2, 3]);
  });

  test('Figure 2 Leaders rule 2 (§5.3): RaftNode answers the client only after the command is applied to its state machine', async () => {
    const clock = new ManualClock();
    const net = new FakeNetwork();
    const nodes = await Promise.all(ids.map(async (id, i) => {
      const sm = new LogMachine();
      const node = await RaftNode.create<number>({ id, voters: ids, storage: new FakeStorage(), transport: net.transport(id), stateMachine: sm, clock, tickMs: 10, random: () => i / 3 });
      await node.start();
      return { node, sm };
    }));
    try {
      await clock.until(() => nodes.some((n) => n.node.status().role === 'leader'));
      const leader = nodes.find((n) => n.node.status().role === 'leader')!;
      for (const n of nodes) if (n !== leader) net.down.add(n.node.id);
      let seenAtAnswer: string[] | null = null;
      const p = leader.node.propose(bytes('x'), { timeoutMs: 60_000 }).then((r) => ((seenAtAnswer = [...leader.sm.items]), r));
      await clock.advance(50); // half an election timeout: it stays leader, but alone
      expect(leader.node.status().role).toBe('leader');
      expect(seenAtAnswer).toBeNull(); // no majority: not committed, not applied, not answered
      net.down.clear();
      await clock.until(() => seenAtAnswer !== null);
      expect(await p).toBe(1);
      expect(seenAtAnswer).toEqual(['x']);
    } finally {
      for (const n of nodes) await n.node.stop();
    }
  });

  test('Figure 2 Leaders rule 3 (§5.3): after a rejection nextIndex goes back and AppendEntries is retried; on success nextIndex and matchIndex advance', () => {
    const a = leaderFrom(1, log(1, 1, 1)); // a holds 1..3 of term 1 and appends 4@2
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    const first = ofType(a.readies.flatMap((r) => r.messages), 'append').find((m) => m.to === 'b')!;
    expect(first).toMatchObject({ prevIndex: 3, prevTerm: 1 });
    expect(a.raw.status().progress['b']).toMatchObject({ match: 0, next: 4, state: 'probe' });
    const reject = b.step(first)[0]!;
    expect(reject).toMatchObject({ type: 'appendResponse', success: false });
    // The core goes back by the follower's hint (thesis §5.3 optimization) rather than by one.
    const retry = ofType(a.step(reject), 'append');
    expect(a.raw.status().progress['b']).toMatchObject({ match: 0, next: 2 });
    expect(retry).toEqual([expect.objectContaining({ to: 'b', prevIndex: 1, prevTerm: 1 })]);
    expect(retry[0]!.entries.map((e) => e.index)).toEqual([2, 3, 4]);
    a.step(b.step(retry[0]!)[0]!);
    expect(a.raw.status().progress['b']).toMatchObject({ match: 4, next: 5, state: 'replicate' });
    expect(b.logIds()).toEqual(a.logIds());
  });

  test('Figure 2 Leaders rule 4 (§5.4.2): commit index N only if a majority has matchIndex >= N and log[N] is of the current term (Figure 8)', () => {
    // s1 led term 2 and wrote 2@2 to s2 only; it is now elected in term 4 (Figure 8 (c)).
    const s1 = new PaperNode('s1', five, stored({ term: 3, commit: 1 }, log(1, 2)));
    s1.raw.campaign();
    s1.flush();
    for (const v of ['s2', 's3']) s1.step(voteGranted(v, 's1', 4));
    expect(s1.raw.status()).toMatchObject({ role: 'leader', term: 4, lastIndex: 3 });
    // 2@2 reaches s2 and s3: stored on a majority, but of an earlier term. Not committed.
    for (const v of ['s2', 's3']) s1.step(appendOk(v, 's1', 4, 2));
    expect(s1.raw.status().commitIndex).toBe(1);
    // 3@4 on s1 and s2 only: of this term, but no majority. Not committed.
    s1.step(appendOk('s2', 's1', 4, 3));
    expect(s1.raw.status().commitIndex).toBe(1);
    // 3@4 on a majority: it commits, and 2@2 with it.
    s1.step(appendOk('s3', 's1', 4, 3));
    expect(s1.raw.status().commitIndex).toBe(3);
    expect(s1.readies.flatMap((r) => r.committedEntries).map((e) => `${e.index}@${e.term}`)).toEqual(['1@1', '2@2', '3@4']);
  });
});
