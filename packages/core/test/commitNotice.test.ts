// A leader tells followers of a new commit index with an append that carries no entries. A
// follower that already acknowledged those entries does not answer it (the answer would say
// nothing new): one message less per follower and commit. A lost acknowledgement is still
// recovered, through the next heartbeat round.
import { describe, expect, test } from 'vitest';
import type { Message } from '../src/consensus/types.js';
import { TestCluster } from './helpers/cluster.js';

const responses = (ms: Message[], from: string) => ms.filter((m) => m.type === 'appendResponse' && m.from === from);

describe('commit notices (§5.3 commit propagation)', () => {
  test('a follower answers the append that brings entries, not the notice that only commits them', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    const index = c.propose('a', 'x');
    for (const m of c.take((m) => m.type === 'append')) c.deliver(m);
    expect(responses(c.queue, 'b').map((m) => m.type === 'appendResponse' && m.index)).toEqual([index]);
    for (const m of c.take((m) => m.to === 'a')) c.deliver(m);
    expect(c.status('a').commitIndex).toBe(index);
    const notices = c.take((m) => m.type === 'append' && m.entries.length === 0);
    expect(notices.map((m) => m.to).sort()).toEqual(['b', 'c']);
    for (const m of notices) c.deliver(m);
    expect(c.status('b').commitIndex).toBe(index);
    expect(responses(c.queue, 'b')).toEqual([]);
    expect(responses(c.queue, 'c')).toEqual([]);
  });

  test('a lost acknowledgement is recovered by the next heartbeat round, and the entry commits', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.dropIf = (m) => m.from === 'c' || m.to === 'c'; // c is gone; a needs b
    const index = c.propose('a', 'x');
    for (const m of c.take((m) => m.type === 'append')) c.deliver(m);
    c.take((m) => m.from === 'b' && m.type === 'appendResponse'); // b's acknowledgement is lost
    expect(c.status('a').commitIndex).toBeLessThan(index);
    c.tick('a'); // heartbeat round
    c.stabilize();
    expect(c.status('a').commitIndex).toBe(index);
    expect(c.status('b').commitIndex).toBe(index);
  });
});
