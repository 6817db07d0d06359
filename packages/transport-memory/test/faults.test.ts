import { describe, expect, it } from 'vitest';
import { type LinkFaults, MemoryNetwork } from '../src/index.js';
import { runWorkload, sendSequence, seqsFrom, trace, virtualCluster } from './helpers.js';

const SENT = 400; // runWorkload: 200 messages from n1 to each of n2 and n3
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const isIncreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);

const kinds: [string, LinkFaults][] = [
  ['drop', { drop: 0.3 }],
  ['duplicate', { duplicate: 0.3 }],
  ['reorder', { reorder: 0.3, delay: { min: 0, max: 2 } }],
  ['delay', { delay: { min: 1, max: 20 } }],
];

describe.each(kinds)('%s fault', (_kind, faults) => {
  it('gives the same deliveries, at the same times, for the same seed', async () => {
    const first = await runWorkload(7, faults);
    const second = await runWorkload(7, faults);
    expect(second.trace).toEqual(first.trace);
    expect(second.cluster.network.stats()).toEqual(first.cluster.network.stats());
  });

  it('gives different deliveries for a different seed', async () => {
    const a = await runWorkload(7, faults);
    const b = await runWorkload(8, faults);
    expect(b.trace).not.toEqual(a.trace);
  });
});

describe('fault effects', () => {
  it('drop loses about the given share of messages, silently', async () => {
    const { cluster } = await runWorkload(11, { drop: 0.3 });
    const stats = cluster.network.stats();
    expect(stats.dropped).toBeGreaterThan(SENT * 0.2);
    expect(stats.dropped).toBeLessThan(SENT * 0.4);
    expect(stats.delivered + stats.dropped).toBe(SENT);
    expect(cluster.recorders.n1.unreachable).toEqual([]);
    expect(isIncreasing(seqsFrom(cluster, 'n2', 'n1'))).toBe(true);
  });

  it('duplicate delivers extra copies, counted, as separate objects', async () => {
    const { cluster } = await runWorkload(12, { duplicate: 0.3 });
    const stats = cluster.network.stats();
    expect(stats.duplicated).toBeGreaterThan(SENT * 0.2);
    expect(stats.delivered).toBe(SENT + stats.duplicated);
    const arrivals = cluster.recorders.n2.arrivals;
    const twins = arrivals.filter((a, i) => i > 0 && a.seq === arrivals[i - 1].seq);
    expect(twins.length).toBeGreaterThan(0);
    expect(twins[0].message).not.toBe(arrivals[arrivals.indexOf(twins[0]) - 1].message);
  });

  it('reorder delivers a held-back message after later ones, and every message once', async () => {
    const { cluster } = await runWorkload(13, { reorder: 0.3 });
    const seqs = seqsFrom(cluster, 'n2', 'n1');
    expect(isIncreasing(seqs)).toBe(false);
    expect([...seqs].sort((a, b) => a - b)).toEqual(range(200));
  });

  it('reorder releases a held message right after the next message on its link', async () => {
    const cluster = await virtualCluster(1, { reorder: 1 });
    cluster.transports.n1.send([sequencedHeartbeat(0)]);
    cluster.network.setFaults({ reorder: 0 });
    cluster.transports.n1.send([sequencedHeartbeat(1)]);
    cluster.clock.runUntilIdle();
    expect(seqsFrom(cluster, 'n2', 'n1')).toEqual([1, 0]);
  });

  it('reorder delivers a held message after reorderHoldMs if nothing follows it', async () => {
    const cluster = await virtualCluster(1, { reorder: 1, reorderHoldMs: 25 });
    cluster.transports.n1.send([sequencedHeartbeat(0)]);
    cluster.clock.advance(24);
    expect(cluster.recorders.n2.arrivals).toEqual([]);
    cluster.clock.advance(1);
    expect(cluster.recorders.n2.arrivals.map((a) => a.at)).toEqual([25]);
  });

  it('delay keeps each link FIFO, within the delay bounds', async () => {
    const { cluster } = await runWorkload(14, { delay: { min: 1, max: 20 } });
    const arrivals = cluster.recorders.n3.arrivals;
    expect(arrivals.map((a) => a.seq)).toEqual(range(200));
    // Message #seq was sent at time seq (one send per millisecond).
    expect(arrivals.every((a) => a.at >= a.seq + 1 && a.at <= a.seq + 20)).toBe(true);
    expect(new Set(arrivals.map((a) => a.at - a.seq)).size).toBeGreaterThan(5);
  });

  it('draws the same numbers whatever the settings, so adding one fault does not change another', async () => {
    const dropOnly = await runWorkload(15, { drop: 0.5 });
    const dropAndDelay = await runWorkload(15, { drop: 0.5, delay: { min: 1, max: 50 } });
    for (const to of ['n2', 'n3']) {
      const survivors = seqsFrom(dropOnly.cluster, to, 'n1');
      expect(survivors.length).toBeLessThan(200);
      expect(seqsFrom(dropAndDelay.cluster, to, 'n1')).toEqual(survivors);
    }
    expect(dropAndDelay.trace).not.toEqual(dropOnly.trace);
  });

  it('probability 1 drops everything and 0 nothing', async () => {
    expect((await runWorkload(1, { drop: 1 })).cluster.network.stats().delivered).toBe(0);
    expect((await runWorkload(1, { drop: 0 })).cluster.network.stats().delivered).toBe(SENT);
  });
});

describe('changing faults at run time', () => {
  it('applies new defaults to later sends only; messages in flight keep their fate', async () => {
    const cluster = await virtualCluster(3, { delay: { min: 10, max: 10 } });
    sendSequence(cluster, 'n1', ['n2'], 5);
    cluster.network.setFaults({ drop: 1 });
    sendSequence(cluster, 'n1', ['n2'], 5);
    cluster.clock.runUntilIdle();
    expect(seqsFrom(cluster, 'n2', 'n1')).toEqual(range(5));
    expect(cluster.network.effectiveFaults('n1', 'n2')).toMatchObject({ drop: 1, delay: { min: 10, max: 10 } });
  });

  it('a link override applies to that direction only, over the defaults, until removed', async () => {
    const cluster = await virtualCluster(4, { delay: { min: 5, max: 5 } });
    cluster.network.setLinkFaults('n1', 'n2', { drop: 1 });
    cluster.network.setLinkFaults('n1', 'n3', { duplicate: 1 });
    sendSequence(cluster, 'n1', ['n2', 'n3'], 3);
    cluster.transports.n2.send([sequencedFrom('n2', 'n1', 0)]);
    cluster.clock.runUntilIdle();
    expect(seqsFrom(cluster, 'n2', 'n1')).toEqual([]);
    expect(seqsFrom(cluster, 'n3', 'n1')).toEqual([0, 0, 1, 1, 2, 2]);
    expect(cluster.recorders.n3.arrivals[0].at).toBe(5);
    expect(seqsFrom(cluster, 'n1', 'n2')).toEqual([0]);
    cluster.network.setLinkFaults('n1', 'n2', null);
    expect(cluster.network.effectiveFaults('n1', 'n2')).toMatchObject({ drop: 0, delay: { min: 5, max: 5 } });
  });

  it('clearFaults removes defaults and overrides', async () => {
    const cluster = await virtualCluster(5, { drop: 1 });
    cluster.network.setLinkFaults('n1', 'n2', { duplicate: 1 });
    cluster.network.clearFaults();
    sendSequence(cluster, 'n1', ['n2'], 3);
    cluster.clock.runUntilIdle();
    expect(seqsFrom(cluster, 'n2', 'n1')).toEqual([0, 1, 2]);
    // Zero delay: each message arrives at the virtual time it was sent.
    expect(trace(cluster)).toEqual(['0 n1>n2 #0', '1 n1>n2 #1', '2 n1>n2 #2']);
  });

  it('rejects out-of-range settings with coded errors', () => {
    const network = new MemoryNetwork({ seed: 1 });
    const bad: LinkFaults[] = [
      { drop: 1.5 },
      { duplicate: -0.1 },
      { reorder: Number.NaN },
      { delay: { min: 5, max: 1 } },
      { delay: { min: 0.5, max: 1 } },
      { reorderHoldMs: -1 },
    ];
    for (const faults of bad) {
      expect(() => network.setFaults(faults)).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' }));
      expect(() => network.setLinkFaults('a', 'b', faults)).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' }));
    }
    expect(() => new MemoryNetwork({ seed: 1, faults: { drop: 2 } })).toThrow(
      expect.objectContaining({ code: 'RAFT_INVALID_CONFIG' }),
    );
    expect(network.effectiveFaults('a', 'b')).toMatchObject({ drop: 0, duplicate: 0, reorder: 0 });
  });
});

function sequencedHeartbeat(seq: number) {
  return sequencedFrom('n1', 'n2', seq);
}

function sequencedFrom(from: string, to: string, seq: number) {
  return { type: 'heartbeat' as const, from, to, term: 1, commit: 0, context: seq };
}
