import { describe, expect, it } from 'vitest';
import { type VirtualCluster, seqsFrom, virtualCluster } from './helpers.js';

/** Every node sends one heartbeat to every other node; returns the links that delivered. */
function probe(cluster: VirtualCluster): string[] {
  const ids = Object.keys(cluster.transports);
  for (const r of Object.values(cluster.recorders)) r.arrivals.length = 0;
  for (const from of ids) {
    const batch = ids.filter((to) => to !== from).map((to) => ({ type: 'heartbeat' as const, from, to, term: 1, commit: 0, context: 1 }));
    cluster.transports[from].send(batch);
  }
  cluster.clock.runUntilIdle();
  return Object.values(cluster.recorders)
    .flatMap((r) => r.arrivals.map((a) => `${a.from}>${a.to}`))
    .sort();
}

const everyLink = ['n1>n2', 'n1>n3', 'n2>n1', 'n2>n3', 'n3>n1', 'n3>n2'];

describe('partitions', () => {
  it('partition cuts links between groups both ways, silently, and heal restores them', async () => {
    const cluster = await virtualCluster(1);
    cluster.network.partition(['n1', 'n2'], ['n3']);
    expect(probe(cluster)).toEqual(['n1>n2', 'n2>n1']);
    expect(cluster.network.stats().dropped).toBe(4);
    expect(Object.values(cluster.recorders).flatMap((r) => r.unreachable)).toEqual([]);
    expect([cluster.network.canReach('n1', 'n3'), cluster.network.canReach('n3', 'n2')]).toEqual([false, false]);
    cluster.network.heal();
    expect(probe(cluster)).toEqual(everyLink);
  });

  it('leaves nodes named in no group connected to everyone', async () => {
    const cluster = await virtualCluster(1);
    cluster.network.partition(['n1'], ['n2']);
    expect(probe(cluster)).toEqual(['n1>n3', 'n2>n3', 'n3>n1', 'n3>n2']);
  });

  it('drops messages already in flight when a partition cuts their link', async () => {
    const cluster = await virtualCluster(1, { delay: { min: 10, max: 10 } });
    cluster.transports.n1.send([{ type: 'heartbeat', from: 'n1', to: 'n3', term: 1, commit: 0, context: 7 }]);
    cluster.clock.advance(5);
    cluster.network.partition(['n1'], ['n3']);
    cluster.clock.runUntilIdle();
    expect(seqsFrom(cluster, 'n3', 'n1')).toEqual([]);
    expect(cluster.network.stats()).toMatchObject({ sent: 1, dropped: 1, delivered: 0, inFlight: 0 });
  });

  it('rejects a partition of fewer than two groups, or with a node in two groups', async () => {
    const { network } = await virtualCluster(1);
    const invalid = expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' });
    expect(() => network.partition(['n1', 'n2'])).toThrow(invalid);
    expect(() => network.partition(['n1', 'n2'], ['n2', 'n3'])).toThrow(invalid);
    expect(network.canReach('n1', 'n3')).toBe(true);
  });
});

describe('one-way blocks', () => {
  it('block cuts one direction only; unblock restores it', async () => {
    const cluster = await virtualCluster(1);
    cluster.network.block('n1', 'n3');
    expect(probe(cluster)).toEqual(everyLink.filter((l) => l !== 'n1>n3'));
    expect([cluster.network.canReach('n1', 'n3'), cluster.network.canReach('n3', 'n1')]).toEqual([false, true]);
    cluster.network.unblock('n1', 'n3');
    expect(probe(cluster)).toEqual(everyLink);
  });
});

describe('isolation', () => {
  it('isolate cuts a node off both ways, the others still talk, heal restores it', async () => {
    const cluster = await virtualCluster(1);
    cluster.network.isolate('n2');
    expect(probe(cluster)).toEqual(['n1>n3', 'n3>n1']);
    cluster.network.heal();
    expect(probe(cluster)).toEqual(everyLink);
  });

  it('keeps a node isolated from nodes that join after the isolation', async () => {
    const cluster = await virtualCluster(1, undefined, 2);
    cluster.network.isolate('n1');
    const late = cluster.network.transport('n9');
    await late.start({ onMessage: () => {} });
    expect(cluster.network.canReach('n9', 'n1')).toBe(false);
    expect(cluster.network.canReach('n9', 'n2')).toBe(true);
  });
});
