// Issue 12, over real HTTP sockets: a snapshot transfer whose connection is cut halfway resumes
// instead of starting over, and a chunk damaged on its way is refused by its CRC and sent again.
import { RaftNode, seededRandom } from '@raftkit/core';
import type { Message, NodeId, Transport } from '@raftkit/core';
import { afterEach, expect, it } from 'vitest';
import type { HttpTransport } from '../src/index.js';
import { ListMachine, MemoryStorage } from './helpers/memoryStorage.js';
import { listenAll, waitFor } from './helpers/net.js';
import { tapped } from './helpers/tapped.js';

const ids: NodeId[] = ['n1', 'n2', 'n3'];
const CHUNK = 8 * 1024;

/** A transport whose traffic (both ways) a test can cut, and whose outgoing messages it can alter. */
function faulty(transport: HttpTransport, ctl: { cut: boolean; alter: (m: Message) => Message; onDeliver: (m: Message) => void }): Transport {
  return tapped(transport, {
    deliver: (m) => {
      if (ctl.cut) return false;
      ctl.onDeliver(m);
      return true;
    },
    send: (messages) => (ctl.cut ? null : messages.map(ctl.alter)),
  });
}

let nodes: RaftNode<number>[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop({ transferLeadership: false })));
  nodes = [];
});

/** n1 and n2 write 80 × 2 KiB and compact; returns a starter for n3, whose traffic `ctl` controls. */
async function compactedCluster(ctl: Parameters<typeof faulty>[1], leaderCtl?: Parameters<typeof faulty>[1]) {
  const transports = await listenAll(ids);
  const machines = ids.map(() => new ListMachine());
  const storages = ids.map(() => new MemoryStorage());
  const make = (i: number) =>
    RaftNode.create<number>({
      id: ids[i],
      voters: ids,
      storage: storages[i],
      transport: i === 2 ? faulty(transports[i], ctl) : leaderCtl ? faulty(transports[i], leaderCtl) : transports[i],
      stateMachine: machines[i],
      tickMs: 10,
      electionTicks: 10,
      random: seededRandom(300 + i),
      snapshots: { everyEntries: 20, trailingEntries: 0, chunkBytes: CHUNK, maxChunksInFlight: 2, chunkTimeoutMs: 300 },
    });
  nodes = await Promise.all([make(0), make(1)]);
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => nodes.some((n) => n.status().role === 'leader'), 'a leader of n1 and n2');
  const leader = nodes.find((n) => n.status().role === 'leader')!;
  const commands = Array.from({ length: 80 }, (_, i) => `${i}:`.padEnd(2048, String.fromCharCode(97 + (i % 26))));
  for (const c of commands) await leader.propose(new TextEncoder().encode(c));
  await waitFor(() => storages[ids.indexOf(leader.id)].firstIndex > commands.length, 'the leader to compact past every command', 10_000);
  const size = (await storages[ids.indexOf(leader.id)].openSnapshot())!.size;
  return { leader, machines, commands, chunks: Math.ceil(size / CHUNK), start: async () => {
    const n3 = await make(2);
    nodes.push(n3);
    await n3.start();
    return n3;
  } };
}

it('a transfer whose connection is cut halfway resumes from what the follower stored: fewer than half the chunks go again', async () => {
  let delivered = 0;
  const ctl = { cut: false, alter: (m: Message) => m, onDeliver: (m: Message) => void (m.type === 'snapshotChunk' && m.data.length > 0 && delivered++) };
  const c = await compactedCluster(ctl);
  expect(c.chunks).toBeGreaterThan(10);
  await c.start();
  await waitFor(() => delivered >= c.chunks / 2, 'half the chunks', 15_000);
  ctl.cut = true; // both directions, every message
  await new Promise((r) => setTimeout(r, 1000)); // several chunk timeouts: the leader resends into the void
  ctl.cut = false;
  await waitFor(() => c.machines[2].items.length === c.commands.length, 'n3 to install the snapshot', 20_000);
  expect(c.machines[2].items).toEqual(c.commands);
  expect(delivered).toBeGreaterThanOrEqual(c.chunks);
  expect(delivered - c.chunks).toBeLessThan(c.chunks / 2);
}, 60_000);

it('a chunk damaged in flight is refused by its CRC, sent again, and the snapshot installed intact', async () => {
  let damaged = 0;
  const leaderCtl = {
    cut: false,
    onDeliver: () => undefined,
    alter: (m: Message): Message => {
      if (m.type !== 'snapshotChunk' || m.offset !== 3 * CHUNK || damaged > 0) return m;
      damaged++;
      const data = new Uint8Array(m.data); // a copy (Buffer#slice would be a view of the leader's snapshot)
      data[100] ^= 0x20;
      return { ...m, data };
    },
  };
  const c = await compactedCluster({ cut: false, alter: (m) => m, onDeliver: () => undefined }, leaderCtl);
  const n3 = await c.start();
  await waitFor(() => c.machines[2].items.length === c.commands.length, 'n3 to install the snapshot', 20_000);
  expect(damaged).toBe(1);
  expect(n3.snapshotStats().receiver.corruptChunks).toBe(1);
  expect(c.machines[2].items).toEqual(c.commands);
}, 60_000);
