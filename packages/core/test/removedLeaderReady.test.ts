// Found by real processes (apps/server membershipScenarios): a leader that committed its own
// removal from an append response stepped down inside maybeCommit, and the "tell followers the
// new commit" flag was set after that, on the follower it had become. flushAppends (leaders
// only) never cleared it, so hasReady() stayed true with nothing in the Ready: RaftNode's drive
// loop spun at 100% CPU, the process answered nothing and ignored SIGTERM.
import { expect, test } from 'vitest';
import { persist } from '../src/testing/durableStore.js';
import { TestCluster } from './helpers/cluster.js';

/** Runs the node's Readies, at most `max` of them: a core stuck with a Ready must not hang the test. */
function flushBounded(c: TestCluster, id: string, max = 20): number {
  const n = c.node(id);
  let i = 0;
  for (; i < max && n.raw.hasReady(); i++) {
    const rd = n.raw.ready();
    persist(n.store, rd.snapshot, rd.entries, rd.hardState);
    c.queue.push(...rd.messages);
    n.raw.advance(rd);
  }
  return i;
}

test('§4.2.2 a leader that commits its own removal on an append response has no Ready left once it stepped down', () => {
  const c = new TestCluster(['a', 'b', 'c']);
  c.elect('a');
  c.node('a').raw.proposeConfChange({ changes: [{ type: 'removeNode', node: 'a' }] });
  c.flush('a');
  // Deliver to the followers, then their acknowledgements to the leader one by one, each
  // followed by a bounded flush of the leader (c.deliver would loop forever on the bug).
  for (let round = 0; round < 10 && c.queue.length > 0; round++) {
    for (const m of c.take()) {
      c.node(m.to).raw.step(m);
      if (m.to === 'a') flushBounded(c, 'a');
      else c.flush(m.to);
    }
  }
  expect(c.status('a').role).toBe('follower');
  expect(c.status('a').membership).toMatchObject({ committed: true, config: { voters: ['b', 'c'] } });
  expect(c.node('a').raw.hasReady()).toBe(false);
});
