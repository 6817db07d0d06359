// Issue 12: a follower that joins after the leader compacted its log catches up from a snapshot
// the leader's RaftNode streams to it as snapshotChunk messages over HttpTransport.
import { RaftNode, seededRandom } from '@raftkit/core';
import type { MessageType, NodeId, Transport } from '@raftkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpTransport } from '../src/index.js';
import { ListMachine, MemoryStorage } from './helpers/memoryStorage.js';
import { listenAll, waitFor } from './helpers/net.js';
import { tapped } from './helpers/tapped.js';

const ids: NodeId[] = ['n1', 'n2', 'n3'];

/** Counts the types of messages a transport delivers to its node. */
function counting(transport: HttpTransport, seen: Map<MessageType, number>): Transport {
  return tapped(transport, {
    deliver: (m) => {
      seen.set(m.type, (seen.get(m.type) ?? 0) + 1);
      return true;
    },
  });
}

let nodes: RaftNode<number>[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop({ transferLeadership: false })));
  nodes = [];
});

// Per-request links, and option `stream`: the leader's link to n3 falls back to requests while
// n3 is not running (503s), and is back on a stream once n3 runs.
describe.each([['requests', false], ['streams', true]] as const)('over %s', (_name, stream) => {
it('a late follower gets the compacted state as streamed chunks over HTTP, and then follows the log', async () => {
  const transports = await listenAll(ids, { stream });
  const machines = ids.map(() => new ListMachine());
  const storages = ids.map(() => new MemoryStorage());
  const seen = new Map<MessageType, number>();
  const make = (i: number) =>
    RaftNode.create<number>({
      id: ids[i],
      voters: ids,
      storage: storages[i],
      transport: i === 2 ? counting(transports[i], seen) : transports[i],
      stateMachine: machines[i],
      tickMs: 10,
      electionTicks: 10,
      random: seededRandom(200 + i),
      // Snapshot every 20 entries, keep no log below it, and stream in 16 KiB chunks.
      snapshots: { everyEntries: 20, trailingEntries: 0, chunkBytes: 16 * 1024, maxChunksInFlight: 2 },
    });
  nodes = await Promise.all([make(0), make(1)]);
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => nodes.some((n) => n.status().role === 'leader'), 'a leader of n1 and n2');
  const leader = nodes.find((n) => n.status().role === 'leader')!;
  // 60 commands of 2 KiB: a snapshot of about 120 KiB, so several chunks.
  const commands = Array.from({ length: 60 }, (_, i) => `${i}:`.padEnd(2048, String.fromCharCode(97 + (i % 26))));
  for (const c of commands) await leader.propose(new TextEncoder().encode(c));
  await waitFor(() => storages[ids.indexOf(leader.id)].firstIndex > 1, 'the leader to compact its log', 10_000);

  const late = await make(2);
  nodes.push(late);
  await late.start();
  await waitFor(() => machines[2].items.length === commands.length, 'the late follower to restore the snapshot and catch up', 15_000);
  expect(machines[2].items).toEqual(commands);
  expect(seen.get('snapshotChunk') ?? 0).toBeGreaterThan(3);
  expect(seen.has('snapshot')).toBe(false); // RaftNode never puts the meta-only message on the wire

  const leaderTransport = transports[ids.indexOf(leader.id)];
  if (stream) await waitFor(() => leaderTransport.stats().peers.n3.stream === 'open', 'the link to n3 back on a stream', 15_000);
  await leader.propose(new TextEncoder().encode('after'));
  await waitFor(() => machines[2].items.at(-1) === 'after', 'the next entry from the log');
}, 30_000);
});
