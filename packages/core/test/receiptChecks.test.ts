import { describe, expect, test } from 'vitest';
import { MAX_TERM, type Message } from '../src/consensus/types.js';
import { ErrorCode, isRaftError } from '../src/errors.js';
import { TestCluster } from './helpers/cluster.js';

const ids = ['a', 'b', 'c'];

describe('what a node accepts from a peer', () => {
  test.each([2 ** 53 - 1, MAX_TERM + 1, 1.5, -1, Number.NaN])('a message claiming term %s is dropped; the cluster still elects and commits', (term) => {
    const c = new TestCluster(ids);
    c.elect('a');
    const forged: Message = { type: 'heartbeat', from: 'c', to: 'b', term, commit: 0, context: 0 };
    c.deliver(forged);
    c.stabilize();
    expect(c.status('b').term).toBe(1);
    expect(c.status('b').role).toBe('follower');
    // A forged vote request cannot move anyone's term either, even once the leader is gone.
    c.deliver({ type: 'vote', from: 'c', to: 'a', term, preVote: false, lastLogIndex: 99, lastLogTerm: 99 });
    c.stabilize();
    expect(c.status('a').term).toBe(1);
    c.propose('a', 'x');
    c.stabilize();
    expect(c.status('b').commitIndex).toBe(2);
    // And once the leader is gone, b and c elect a new one in the next term.
    for (let i = 0; i < 40 && !['b', 'c'].some((id) => c.status(id).role === 'leader'); i++) {
      c.tick('b');
      c.tick('c');
      for (const m of c.take()) if (m.from !== 'a' && m.to !== 'a') c.deliver(m);
      c.stabilize();
      c.take((m) => m.to === 'a' || m.from === 'a');
    }
    expect(['b', 'c'].filter((id) => c.status(id).role === 'leader')).toHaveLength(1);
    expect(c.status('b').term).toBe(2);
  });

  test('MAX_TERM itself is still a term (the bound is inclusive)', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.deliver({ type: 'heartbeat', from: 'c', to: 'b', term: MAX_TERM, commit: 0, context: 0 });
    expect(c.status('b').term).toBe(MAX_TERM);
  });

  test('a follower told it acknowledged more than its log holds stops with RAFT_STORAGE_LOST', () => {
    const c = new TestCluster(ids);
    c.elect('a');
    c.propose('a', 'x');
    c.stabilize();
    // b's storage lost its tail behind its back (a truncated WAL): the leader still knows b
    // acknowledged index 2 and caps the commit it sends b at that.
    let caught: unknown;
    try {
      c.node('b').raw.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 5, context: 0 });
    } catch (err) {
      caught = err;
    }
    expect(isRaftError(caught, ErrorCode.StorageLost)).toBe(true);
    expect(String((caught as Error).message)).toMatch(/acknowledged entries up to 5, but its log ends at 2/);
  });
});
