// Raft Figure 2, the receiver rules of AppendEntries and RequestVote: one test per rule, each
// driving the situation the rule exists for through a pure core, message by message.
// Nodes run the plain protocol (no pre-vote, no check-quorum) unless a test says otherwise.
import { describe, expect, test } from 'vitest';
import type { Message } from '../src/consensus/types.js';
import { TestCluster } from './helpers/cluster.js';
import { PaperNode, append, entry, log, ofType, stored, vote, voteGranted } from './helpers/paper.js';

const ids = ['a', 'b', 'c'];

describe('Figure 2 AppendEntries RPC, receiver implementation', () => {
  test('Figure 2 AppendEntries rule 1 (§5.1): reply false if term < currentTerm; the deposed leader learns the newer term', () => {
    // a was elected in term 2 but b has since moved on to term 3. b runs the default config:
    // with pre-vote or check-quorum off this core drops a stale AppendEntries without a reply
    // (as etcd does); with them on (the default) it replies false with its term, as Figure 2 says.
    const a = new PaperNode('a', ids, stored({ term: 1 }, log(1)));
    const b = new PaperNode('b', ids, stored({ term: 3 }, log(1)), { preVote: true, checkQuorum: true });
    a.raw.campaign();
    a.flush();
    const sent = a.step(voteGranted('c', 'a', 2));
    expect(a.raw.status()).toMatchObject({ role: 'leader', term: 2 });
    const toB = ofType(sent, 'append').find((m) => m.to === 'b')!;
    expect(toB).toMatchObject({ term: 2, prevIndex: 1, entries: [{ index: 2, term: 2 }] });

    b.tick(9); // one tick short of b's election timeout
    const reply = b.step(toB);
    expect(reply).toEqual([expect.objectContaining({ type: 'appendResponse', to: 'a', term: 3, success: false })]);
    expect(b.logIds()).toEqual(['1@1']);
    expect(b.raw.status()).toMatchObject({ term: 3, leader: null, commitIndex: 0 });
    // b did not take a for its leader: its election timer kept running.
    b.tick();
    expect(b.raw.status().role).toBe('pre-candidate');

    a.step(reply[0]!);
    expect(a.raw.status()).toMatchObject({ role: 'follower', term: 3, vote: null, leader: null });
  });

  test('Figure 2 AppendEntries rule 2 (§5.3): reply false if the log has no entry at prevLogIndex', () => {
    const b = new PaperNode('b', ids, stored({ term: 2 }, log(1)));
    const rd = b.stepReady(append({ from: 'a', to: 'b', term: 2, prevIndex: 3, prevTerm: 2, entries: [entry(4, 2)], commit: 3 }));
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResponse', success: false, index: 3, conflictTerm: 0, conflictIndex: 2 })]);
    expect(rd.entries).toEqual([]);
    expect(b.logIds()).toEqual(['1@1']);
    // A failed consistency check teaches nothing about commitment either.
    expect(b.raw.status().commitIndex).toBe(0);
    expect(b.raw.status().leader).toBe('a');
  });

  test('Figure 2 AppendEntries rule 2 (§5.3): reply false if the entry at prevLogIndex has another term; the retry one entry earlier succeeds', () => {
    const b = new PaperNode('b', ids, stored({ term: 3 }, log(1, 1, 2)));
    const rd = b.stepReady(append({ from: 'a', to: 'b', term: 3, prevIndex: 3, prevTerm: 3, entries: [entry(4, 3)] }));
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResponse', success: false, index: 3, conflictTerm: 2, conflictIndex: 3 })]);
    expect(rd.entries).toEqual([]);
    expect(b.logIds()).toEqual(['1@1', '2@1', '3@2']); // a rejection removes nothing
    const retry = b.step(append({ from: 'a', to: 'b', term: 3, prevIndex: 2, prevTerm: 1, entries: [entry(3, 3), entry(4, 3)] }));
    expect(retry).toEqual([expect.objectContaining({ type: 'appendResponse', success: true, index: 4 })]);
    expect(b.logIds()).toEqual(['1@1', '2@1', '3@3', '4@3']);
  });

  test('Figure 2 AppendEntries rule 3 (§5.3): a follower holding extra entries of an old term past the new ones deletes them all, durably', () => {
    // b took 2..4 from a leader of term 2 that never committed them; the leader of term 3 has
    // a different entry at 2 and nothing after it.
    const b = new PaperNode('b', ids, stored({ term: 2 }, log(1, 2, 2, 2)));
    const rd = b.stepReady(append({ from: 'a', to: 'b', term: 3, prevIndex: 1, prevTerm: 1, entries: [entry(2, 3)], commit: 1 }));
    expect(rd.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['2@3']);
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResponse', success: true, index: 2 })]);
    expect(b.logIds()).toEqual(['1@1', '2@3']);
    expect(b.storedIds()).toEqual(['1@1', '2@3']);
    // And what is later committed and applied at 2 is the leader's entry, not the old one.
    b.step({ type: 'heartbeat', from: 'a', to: 'b', term: 3, commit: 2, context: 0 });
    expect(b.readies.flatMap((r) => r.committedEntries).map((e) => `${e.index}@${e.term}`)).toEqual(['1@1', '2@3']);
  });

  test('Figure 2 AppendEntries rule 3 (§5.3): only the conflicting entry and those after it go; matching entries before it stay', () => {
    const b = new PaperNode('b', ids, stored({ term: 2 }, log(1, 1, 2, 2)));
    const rd = b.stepReady(append({ from: 'a', to: 'b', term: 3, prevIndex: 1, prevTerm: 1, entries: [entry(2, 1), entry(3, 3)] }));
    expect(rd.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['3@3']);
    expect(b.storedIds()).toEqual(['1@1', '2@1', '3@3']);
  });

  test('Figure 2 AppendEntries rule 3 (§5.3): a duplicated or late AppendEntries carrying a prefix does not truncate the entries after it', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.propose('a', 'y'); // pipelined: a second AppendEntries before the first is answered
    const [m1, m2] = c.take((m) => m.to === 'b' && m.type === 'append') as Extract<Message, { type: 'append' }>[];
    expect(m1!.entries.map((e) => e.index)).toEqual([2]);
    expect(m2!.entries.map((e) => e.index)).toEqual([3]);
    c.deliver(m1!);
    c.deliver(m2!);
    expect(c.status('b').lastIndex).toBe(3);
    const b = c.node('b').raw;
    for (const late of [m1!, m2!, m1!, { ...m1!, entries: [] }]) {
      b.step(late);
      const rd = b.ready();
      b.advance(rd);
      expect(rd.entries).toEqual([]); // nothing rewritten, nothing deleted
      expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResponse', success: true })]);
      expect(c.logTerms('b')).toEqual([1, 1, 1]);
    }
    expect(c.node('b').store.entries.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  test('Figure 2 AppendEntries rule 4 (§5.3): only entries not already in the log are appended', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1, 1)));
    const rd = b.stepReady(append({ from: 'a', to: 'b', term: 1, prevIndex: 1, prevTerm: 1, entries: [entry(2, 1), entry(3, 1), entry(4, 1)] }));
    expect(rd.entries.map((e) => e.index)).toEqual([3, 4]);
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResponse', success: true, index: 4 })]);
    expect(b.logIds()).toEqual(['1@1', '2@1', '3@1', '4@1']);
  });

  test('Figure 2 AppendEntries rule 5 (§5.3): if leaderCommit > commitIndex, commitIndex = min(leaderCommit, index of last new entry)', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    b.step(append({ from: 'a', to: 'b', term: 1, prevIndex: 1, prevTerm: 1, entries: [entry(2, 1), entry(3, 1)], commit: 2 }));
    expect(b.raw.status().commitIndex).toBe(2);
    expect(b.readies.flatMap((r) => r.committedEntries).map((e) => e.index)).toEqual([1, 2]);
    // A leaderCommit below ours (a delayed message) never moves the commit index back.
    b.step(append({ from: 'a', to: 'b', term: 1, prevIndex: 3, prevTerm: 1, entries: [], commit: 1 }));
    expect(b.raw.status().commitIndex).toBe(2);
  });

  test('Figure 2 AppendEntries rule 5 (§5.3): leaderCommit beyond the last new entry does not commit the follower\'s unverified old-term entries after it', () => {
    // The leader of term 3 holds [1@1, 2@2, 3@3, 4@3, 5@3] with 5 committed. b holds 3@2 and
    // 4@2 from the old leader of term 2, which the new leader does not have. This message (a
    // delayed probe, or one cut short by maxBytesPerMessage) verifies b's log only up to 2.
    const b = new PaperNode('b', ids, stored({ term: 2 }, log(1, 2, 2, 2)));
    b.step(append({ from: 'a', to: 'b', term: 3, prevIndex: 1, prevTerm: 1, entries: [entry(2, 2)], commit: 5 }));
    expect(b.logIds()).toEqual(['1@1', '2@2', '3@2', '4@2']); // rule 3: no conflict, nothing deleted
    expect(b.raw.status().commitIndex).toBe(2); // not min(5, lastIndex) = 4
    const applied = () => b.readies.flatMap((r) => r.committedEntries).map((e) => `${e.index}@${e.term}`);
    expect(applied()).toEqual(['1@1', '2@2']);
    // The next message replaces them; only now are 3..5 committed, the leader's entries.
    b.step(append({ from: 'a', to: 'b', term: 3, prevIndex: 2, prevTerm: 2, entries: [entry(3, 3), entry(4, 3), entry(5, 3)], commit: 5 }));
    expect(b.raw.status().commitIndex).toBe(5);
    expect(applied()).toEqual(['1@1', '2@2', '3@3', '4@3', '5@3']);
  });
});

describe('Figure 2 RequestVote RPC, receiver implementation', () => {
  test('Figure 2 RequestVote rule 1 (§5.1): a candidate of an older term gets no vote; the node\'s term and vote are unchanged', () => {
    // Plain protocol: this core drops the stale request (as etcd does) rather than replying
    // false; either way the vote is not granted and nothing changes.
    const b = new PaperNode('b', ids, stored({ term: 3 }, log(1)));
    const out = b.step(vote({ from: 'c', to: 'b', term: 2, lastLogIndex: 5, lastLogTerm: 2 }));
    expect(out.filter((m) => m.type === 'voteResponse' && m.granted)).toEqual([]);
    expect(b.raw.status()).toMatchObject({ term: 3, vote: null });
    expect(b.readies.every((r) => r.hardState === null)).toBe(true);
  });

  test('Figure 2 RequestVote rule 1 (§5.1, thesis §9.6): with pre-vote, a stale candidate gets an explicit false carrying the term, and adopts it', () => {
    const b = new PaperNode('b', ids, stored({ term: 3 }, log(1)), { preVote: true });
    const c = new PaperNode('c', ids, stored({ term: 1 }, log(1)), { preVote: true });
    c.raw.campaign();
    const req = ofType(c.flush().flatMap((r) => r.messages), 'vote').find((m) => m.to === 'b')!;
    expect(req).toMatchObject({ preVote: true, term: 2 });
    const reply = b.step(req);
    expect(reply).toEqual([expect.objectContaining({ type: 'voteResponse', preVote: true, granted: false, term: 3 })]);
    c.step(reply[0]!);
    expect(c.raw.status()).toMatchObject({ role: 'follower', term: 3 });
  });

  test('Figure 2 RequestVote rule 2 (§5.2): votedFor null and an up-to-date log: grant, recording the vote in the same Ready', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    const rd = b.stepReady(vote({ from: 'c', to: 'b', term: 2, lastLogIndex: 1, lastLogTerm: 1 }));
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'voteResponse', to: 'c', term: 2, granted: true })]);
    expect(rd.hardState).toMatchObject({ term: 2, vote: 'c' });
    expect(rd.mustSync).toBe(true);
  });

  test('Figure 2 RequestVote rule 2 (§5.2): one vote per term: a second candidate is refused even with a longer log; the same one again is granted', () => {
    const b = new PaperNode('b', ids, stored({ term: 1 }, log(1)));
    b.step(vote({ from: 'c', to: 'b', term: 2, lastLogIndex: 1, lastLogTerm: 1 }));
    const second = b.stepReady(vote({ from: 'a', to: 'b', term: 2, lastLogIndex: 9, lastLogTerm: 1 }));
    expect(second.messages).toEqual([expect.objectContaining({ type: 'voteResponse', to: 'a', granted: false })]);
    expect(second.hardState).toBeNull();
    // A retransmitted request from the candidate it voted for is granted again.
    const again = b.stepReady(vote({ from: 'c', to: 'b', term: 2, lastLogIndex: 1, lastLogTerm: 1 }));
    expect(again.messages).toEqual([expect.objectContaining({ type: 'voteResponse', to: 'c', granted: true })]);
    expect(b.raw.status()).toMatchObject({ term: 2, vote: 'c' });
    // And after a restart from what it persisted, still only c.
    const restarted = new PaperNode('b', ids, b.store);
    expect(restarted.step(vote({ from: 'a', to: 'b', term: 2, lastLogIndex: 9, lastLogTerm: 1 }))).toEqual([
      expect.objectContaining({ type: 'voteResponse', granted: false }),
    ]);
  });

  // b's log ends at index 3 with term 2. §5.4.1: compare last terms first, then lengths.
  test.each([
    ['a higher last term, even with a shorter log', 2, 3, true],
    ['a lower last term, even with a longer log', 10, 1, false],
    ['the same last term and a longer log', 4, 2, true],
    ['the same last term and an equally long log', 3, 2, true],
    ['the same last term and a shorter log', 2, 2, false],
  ])('Figure 2 RequestVote rule 2 (§5.4.1): a candidate with %s (lastLogIndex %i, lastLogTerm %i): granted %s', (_name, lastLogIndex, lastLogTerm, granted) => {
    const b = new PaperNode('b', ids, stored({ term: 2 }, log(1, 2, 2)));
    const rd = b.stepReady(vote({ from: 'c', to: 'b', term: 5, lastLogIndex, lastLogTerm }));
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'voteResponse', to: 'c', term: 5, granted })]);
    // The newer term is adopted either way; a refused candidate leaves the vote free.
    expect(b.raw.status()).toMatchObject({ term: 5, vote: granted ? 'c' : null });
  });

  test('Figure 2 RequestVote rule 2 (§5.4.1): a node that refused an out-of-date candidate can still vote for an up-to-date one in that term', () => {
    const b = new PaperNode('b', ids, stored({ term: 2 }, log(1, 2, 2)));
    b.step(vote({ from: 'c', to: 'b', term: 5, lastLogIndex: 2, lastLogTerm: 2 }));
    const out = b.step(vote({ from: 'a', to: 'b', term: 5, lastLogIndex: 3, lastLogTerm: 2 }));
    expect(out).toEqual([expect.objectContaining({ type: 'voteResponse', to: 'a', granted: true })]);
  });
});
