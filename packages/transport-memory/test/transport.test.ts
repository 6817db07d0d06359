import type { AppendRequest, Message } from '@raftkit/core';
import { Inbox, largeAppend, samplesOfType, sequencedMessage } from '@raftkit/transport-suite';
import { describe, expect, it } from 'vitest';
import { ManualScheduler, MemoryNetwork } from '../src/index.js';
import { seqsFrom, virtualCluster } from './helpers.js';

const code = (c: string) => expect.objectContaining({ code: c });
const heartbeat = (from: string, to: string, context = 0): Message => ({ type: 'heartbeat', from, to, term: 1, commit: 0, context });

describe('lifecycle', () => {
  it('moves from created to started to closed, and cannot restart', async () => {
    const network = new MemoryNetwork({ seed: 1 });
    const t = network.transport('a');
    expect(t.state).toBe('created');
    await t.start(new Inbox());
    expect(t.state).toBe('started');
    await expect(t.start(new Inbox())).rejects.toThrow(code('RAFT_INVALID_ARGUMENT'));
    await t.close();
    expect(t.state).toBe('closed');
    await expect(t.start(new Inbox())).rejects.toThrow(code('RAFT_STOPPED'));
  });

  it('allows one open transport per id; a new one after close models a restart', async () => {
    const network = new MemoryNetwork({ seed: 1 });
    const first = network.transport('a');
    expect(() => network.transport('a')).toThrow(code('RAFT_INVALID_ARGUMENT'));
    await first.close();
    expect(network.transport('a').id).toBe('a');
    expect(() => network.transport('')).toThrow(code('RAFT_INVALID_ARGUMENT'));
  });

  it('rejects a handler without onMessage, and bad network options, with coded errors', async () => {
    const network = new MemoryNetwork({ seed: 1 });
    await expect(network.transport('a').start({} as never)).rejects.toThrow(code('RAFT_INVALID_ARGUMENT'));
    expect(() => new MemoryNetwork({ seed: 1.5 })).toThrow(code('RAFT_INVALID_CONFIG'));
    expect(() => new MemoryNetwork({} as never)).toThrow(code('RAFT_INVALID_CONFIG'));
    expect(() => new MemoryNetwork({ seed: 1, scheduler: {} as never })).toThrow(code('RAFT_INVALID_CONFIG'));
  });

  it('does not deliver synchronously: nothing arrives until the scheduler runs', async () => {
    const cluster = await virtualCluster(1);
    cluster.transports.n1.send([heartbeat('n1', 'n2')]);
    expect(cluster.recorders.n2.arrivals).toEqual([]);
    cluster.clock.advance(0);
    expect(seqsFrom(cluster, 'n2', 'n1')).toEqual([0]);
  });
});

describe('sending', () => {
  it('throws RAFT_BAD_MESSAGE for a malformed batch and sends none of it', async () => {
    const cluster = await virtualCluster(1);
    const good = heartbeat('n1', 'n2');
    const bad: unknown[] = [
      heartbeat('n3', 'n2'),
      { ...good, type: 'gossip' },
      { ...good, to: 2 },
      null,
      { ...good, extra: new Map() },
    ];
    for (const message of bad) {
      expect(() => cluster.transports.n1.send([good, message as Message])).toThrow(code('RAFT_BAD_MESSAGE'));
    }
    cluster.clock.runUntilIdle();
    expect(cluster.recorders.n2.arrivals).toEqual([]);
    expect(cluster.network.stats().sent).toBe(0);
  });

  it('delivers plain Uint8Array copies of exactly the bytes each view covers', async () => {
    const cluster = await virtualCluster(1);
    const [append] = samplesOfType('append', 'n1', 'n2') as AppendRequest[];
    const fromBuffer: AppendRequest = { ...append, entries: [{ ...append.entries[0], data: Buffer.from([1, 2, 3]) }] };
    cluster.transports.n1.send([fromBuffer, append]);
    cluster.clock.runUntilIdle();
    const [first, second] = cluster.recorders.n2.arrivals.map((a) => a.message as AppendRequest);
    expect(Object.getPrototypeOf(first.entries[0].data)).toBe(Uint8Array.prototype);
    expect([...first.entries[0].data]).toEqual([1, 2, 3]);
    const viewed = second.entries[2].data;
    expect([viewed.byteOffset, viewed.buffer.byteLength]).toEqual([0, append.entries[2].data.byteLength]);
  });

  it('ignores sends before start and after close, counting them as dropped', async () => {
    const network = new MemoryNetwork({ seed: 1, scheduler: new ManualScheduler() });
    const idle = network.transport('a');
    expect(() => idle.send([heartbeat('a', 'b'), { bogus: true } as never])).not.toThrow();
    expect(network.stats()).toMatchObject({ sent: 1, dropped: 1, delivered: 0 });
  });
});

describe('a handler that throws', () => {
  it('breaks the contract loudly: the error leaves advance(), and later deliveries still happen', async () => {
    const clock = new ManualScheduler();
    const network = new MemoryNetwork({ seed: 1, scheduler: clock });
    const received: number[] = [];
    const sender = network.transport('a');
    await sender.start(new Inbox());
    await network.transport('b').start({
      onMessage: (m) => {
        const context = (m as { context: number }).context;
        if (context === 1) throw new Error('handler bug');
        received.push(context);
      },
    });
    sender.send([heartbeat('a', 'b', 0), heartbeat('a', 'b', 1), heartbeat('a', 'b', 2)]);
    expect(() => clock.advance(0)).toThrow('handler bug');
    clock.runUntilIdle();
    expect(received).toEqual([0, 2]);
    expect(network.stats()).toMatchObject({ delivered: 3, inFlight: 0 });
  });
});

describe('unreachable peers', () => {
  it('reports each unknown peer once per send call, after send returns', async () => {
    const cluster = await virtualCluster(1);
    cluster.transports.n1.send([heartbeat('n1', 'x'), heartbeat('n1', 'x', 1), heartbeat('n1', 'y'), heartbeat('n1', 'n2')]);
    expect(cluster.recorders.n1.unreachable).toEqual([]);
    cluster.clock.runUntilIdle();
    expect(cluster.recorders.n1.unreachable).toEqual(['x', 'y']);
    expect(cluster.network.stats()).toMatchObject({ sent: 4, unreachable: 3, delivered: 1 });
    expect(cluster.network.stats().byType.heartbeat.unreachable).toBe(3);
  });

  it('treats a peer that is not started, or closed, as unreachable', async () => {
    const cluster = await virtualCluster(1);
    cluster.network.transport('n4');
    await cluster.transports.n3.close();
    cluster.transports.n1.send([heartbeat('n1', 'n4'), heartbeat('n1', 'n3')]);
    cluster.clock.runUntilIdle();
    expect(cluster.recorders.n1.unreachable).toEqual(['n4', 'n3']);
  });

  it('does not deliver messages sent to a node before it restarted to its new incarnation', async () => {
    const cluster = await virtualCluster(1, { delay: { min: 10, max: 10 } });
    cluster.transports.n1.send([heartbeat('n1', 'n2', 1)]);
    await cluster.transports.n2.close();
    const reborn = new Inbox();
    await cluster.network.transport('n2').start(reborn);
    cluster.transports.n1.send([heartbeat('n1', 'n2', 2)]);
    cluster.clock.runUntilIdle();
    expect(reborn.messages.map((m) => (m as { context: number }).context)).toEqual([2]);
  });
});

describe('closing', () => {
  it('drops messages in flight to and from a closing node and leaves no timer pending', async () => {
    const cluster = await virtualCluster(1, { delay: { min: 5, max: 50 }, reorder: 0.5 });
    for (let i = 0; i < 20; i++) {
      cluster.transports.n1.send([sequencedMessage('n1', 'n2', i), heartbeat('n1', 'x')]);
      cluster.transports.n2.send([sequencedMessage('n2', 'n1', i)]);
    }
    await cluster.transports.n2.close();
    expect(cluster.network.stats()).toMatchObject({ inFlight: 0, dropped: 40 });
    cluster.clock.runUntilIdle();
    expect(cluster.recorders.n1.arrivals).toEqual([]);
    await cluster.network.close();
    expect(cluster.clock.pending).toBe(0);
  });

  it('network.close closes every transport', async () => {
    const cluster = await virtualCluster(1, { delay: { min: 5, max: 5 } });
    cluster.transports.n1.send([heartbeat('n1', 'n2'), heartbeat('n1', 'n3')]);
    await cluster.network.close();
    expect(Object.values(cluster.transports).map((t) => t.state)).toEqual(['closed', 'closed', 'closed']);
    expect([cluster.clock.pending, cluster.network.stats().inFlight]).toEqual([0, 0]);
  });
});

describe('counters', () => {
  it('counts per message type: one batched append is one message', async () => {
    const cluster = await virtualCluster(1);
    cluster.transports.n1.send([largeAppend('n1', 'n2', 1024, 64), heartbeat('n1', 'n2'), heartbeat('n1', 'n3')]);
    cluster.clock.runUntilIdle();
    const { byType } = cluster.network.stats();
    expect(byType.append).toEqual({ sent: 1, delivered: 1, dropped: 0, duplicated: 0, unreachable: 0 });
    expect(byType.heartbeat.delivered).toBe(2);
    expect(byType.vote.sent).toBe(0);
    cluster.network.resetStats();
    expect(cluster.network.stats()).toMatchObject({ sent: 0, delivered: 0 });
  });

  it('balances at every step: sent + duplicated = delivered + dropped + unreachable + inFlight', async () => {
    const faults = { drop: 0.2, duplicate: 0.2, reorder: 0.2, delay: { min: 0, max: 30 } };
    const cluster = await virtualCluster(99, faults);
    const balanced = () => {
      const s = cluster.network.stats();
      return s.sent + s.duplicated === s.delivered + s.dropped + s.unreachable + s.inFlight;
    };
    for (let i = 0; i < 300; i++) {
      cluster.transports.n1.send([sequencedMessage('n1', 'n2', i), sequencedMessage('n1', i % 10 ? 'n3' : 'x', i)]);
      if (i === 150) cluster.network.partition(['n1'], ['n3']);
      cluster.clock.advance(1);
      expect(balanced()).toBe(true);
    }
    await cluster.transports.n2.close();
    cluster.clock.runUntilIdle();
    expect(balanced()).toBe(true);
    expect(cluster.network.stats().inFlight).toBe(0);
  });
});

describe('zero-delay loops', () => {
  it('under a virtual clock surface as RAFT_TIMEOUT from runUntilIdle instead of hanging', async () => {
    const clock = new ManualScheduler({ maxCallbacks: 1000 });
    const network = new MemoryNetwork({ seed: 1, scheduler: clock });
    const [a, b] = [network.transport('a'), network.transport('b')];
    let echoes = 0;
    const echo = (self: typeof a) => ({
      onMessage: (m: Message) => {
        echoes++;
        self.send([heartbeat(self.id, m.from)]);
      },
    });
    await a.start(echo(a));
    await b.start(echo(b));
    a.send([heartbeat('a', 'b')]);
    // Each timer callback delivers only what was queued before it ran, so the guard can count.
    expect(() => clock.runUntilIdle()).toThrow(code('RAFT_TIMEOUT'));
    expect(echoes).toBe(1000);
    await network.close();
    expect(clock.pending).toBe(0);
  });
});

describe('with real timers', () => {
  it('two nodes echoing each other with zero delay do not starve the event loop', async () => {
    const network = new MemoryNetwork({ seed: 1 });
    const [a, b] = [network.transport('a'), network.transport('b')];
    let echoes = 0;
    const echo = (self: typeof a) => ({
      onMessage: (m: Message) => {
        echoes++;
        self.send([heartbeat(self.id, m.from)]);
      },
    });
    await a.start(echo(a));
    await b.start(echo(b));
    a.send([heartbeat('a', 'b')]);
    // Each poll is a real timer: it only fires if the echoes leave the event loop room to run.
    let polls = 0;
    while (echoes < 100) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      polls++;
    }
    await network.close();
    const atClose = echoes;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(polls).toBeGreaterThan(0);
    expect(echoes).toBe(atClose);
  });
});
