import { describe, expect, test } from 'vitest';
import { TestCluster } from './helpers/cluster.js';
import { heal, isolate } from './helpers/membership.js';

const ids = ['a', 'b', 'c'];

function led(overrides = {}): TestCluster {
  const c = new TestCluster(ids, overrides);
  c.elect('a');
  c.propose('a', 'x');
  c.stabilize();
  return c;
}

describe('thesis §3.10 leadership transfer', () => {
  test('§3.10 to an up-to-date voter: TimeoutNow, it campaigns at once without pre-vote, and voters let it through their leader stickiness', () => {
    const c = led(); // pre-vote and check-quorum on
    const term = c.status('a').term;
    expect(c.node('a').raw.transferLeadership('b')).toBe('b');
    c.flush('a');
    expect(c.queue.filter((m) => m.type === 'timeoutNow').map((m) => m.to)).toEqual(['b']);
    c.stabilize(); // no tick: nobody waits out an election timeout
    expect(c.leaders()).toEqual(['b']);
    expect(c.status('b').term).toBe(term + 1);
    expect(c.status('b').commitIndex).toBeGreaterThanOrEqual(3);
  });

  test('§3.10 to a lagging follower: the leader first brings it up to date, then sends TimeoutNow', () => {
    const c = led();
    c.dropIf = (m) => m.to === 'b';
    for (let i = 0; i < 5; i++) c.propose('a', `y${i}`);
    c.stabilize();
    heal(c);
    const last = c.status('a').lastIndex;
    expect(c.status('b').lastIndex).toBeLessThan(last);
    c.node('a').raw.transferLeadership('b');
    c.flush('a');
    const first = c.queue.filter((m) => m.to === 'b');
    expect(first.map((m) => m.type)).toEqual(['append']); // no TimeoutNow yet
    c.stabilize();
    expect(c.leaders()).toEqual(['b']);
    expect(c.node('b').applied.map((e) => e.data).slice(-6)).toEqual(['y0', 'y1', 'y2', 'y3', 'y4', '']); // then its own first entry
  });

  test('§3.10 during a transfer the leader refuses proposals (RAFT_TRANSFER_IN_PROGRESS) and serves no lease reads', () => {
    const c = led();
    c.tick('a'); // a heartbeat round acknowledged by a majority: a lease
    c.stabilize();
    expect(c.node('a').raw.leaseReadIndex()).toBeGreaterThan(0);
    c.dropIf = (m) => m.to === 'b';
    c.node('a').raw.transferLeadership('b');
    expect(() => c.node('a').raw.propose(new Uint8Array([1]))).toThrow(expect.objectContaining({ code: 'RAFT_TRANSFER_IN_PROGRESS' }));
    expect(c.node('a').raw.leaseReadIndex()).toBe(0);
  });

  test('§3.10 a transfer that does not finish within an election timeout is abandoned; the leader carries on, without its lease', () => {
    const c = led();
    isolate(c, 'b');
    c.node('a').raw.transferLeadership('b');
    for (let i = 0; i < 10; i++) {
      c.tick('a');
      c.stabilize(); // c keeps answering, so check-quorum keeps a in office
    }
    expect(c.status('a')).toMatchObject({ role: 'leader', transferee: null });
    expect(() => c.propose('a', 'after')).not.toThrow();
    c.stabilize();
    expect(c.node('c').applied.at(-1)!.data).toBe('after');
  });

  test('once TimeoutNow was sent the old leader never serves a lease again in its term, even if the transfer is abandoned', () => {
    const c = led();
    c.dropIf = (m) => m.type === 'timeoutNow'; // lost on the way
    c.node('a').raw.transferLeadership('b');
    c.flush('a');
    c.stabilize();
    for (let i = 0; i < 12; i++) {
      c.tick('a');
      c.stabilize();
    }
    expect(c.status('a')).toMatchObject({ role: 'leader', transferee: null });
    expect(c.node('a').raw.leaseReadIndex()).toBe(0);
    // ReadIndex still works: it does not depend on the lease.
    c.node('a').raw.readIndex('r');
    c.flush('a');
    c.stabilize();
    expect(c.node('a').readStates.map((r) => r.requestId)).toEqual(['r']);
    expect(c.node('a').readStates[0]!.index).toBeGreaterThan(0);
  });

  test('a transfer vote does not get past the stickiness of a voter that follows another leader', () => {
    const c = led();
    // b claims a hand-over from c, which is not the leader anyone follows: a and c refuse.
    const term = c.status('a').term;
    c.deliver({ type: 'vote', from: 'b', to: 'c', term: term + 1, preVote: false, lastLogIndex: 99, lastLogTerm: term, transferFrom: 'c' });
    expect(c.status('c').term).toBe(term);
    expect(c.queue.filter((m) => m.type === 'voteResponse' && m.granted)).toEqual([]);
  });

  test('no target: the most up-to-date voter is chosen; a follower or a non-voter target is refused', () => {
    const c = led();
    c.dropIf = (m) => m.to === 'c';
    c.propose('a', 'z');
    c.stabilize();
    heal(c);
    expect(c.node('a').raw.transferLeadership()).toBe('b');
    expect(() => c.node('b').raw.transferLeadership('c')).toThrow(expect.objectContaining({ code: 'RAFT_NOT_LEADER' }));
    const d = led();
    expect(() => d.node('a').raw.transferLeadership('zz')).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' }));
    expect(d.node('a').raw.transferLeadership('a')).toBe('a');
  });
});
