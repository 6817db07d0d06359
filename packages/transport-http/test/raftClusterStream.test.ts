import { RaftNode, seededRandom } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpTransport } from '../src/index.js';
import { ListMachine, MemoryStorage } from './helpers/memoryStorage.js';
import { listenAll, waitFor } from './helpers/net.js';

// raftCluster.test.ts's cluster with option `stream`: every peer link on one stream.

const ids: NodeId[] = ['n1', 'n2', 'n3'];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

let nodes: RaftNode<number>[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

describe('a 3-node RaftNode cluster over streaming HttpTransport links (Raft §5.2, §5.3)', () => {
  it('elects one leader and commits proposals on every node, over streams only', async () => {
    const transports: HttpTransport[] = await listenAll(ids, { stream: true });
    const machines = ids.map(() => new ListMachine());
    nodes = await Promise.all(
      ids.map((id, i) =>
        RaftNode.create<number>({ id, voters: ids, storage: new MemoryStorage(), transport: transports[i], stateMachine: machines[i], tickMs: 10, electionTicks: 10, random: seededRandom(200 + i) }),
      ),
    );
    await Promise.all(nodes.map((n) => n.start()));
    const leaderOf = () => nodes.filter((n) => n.status().role === 'leader');
    await waitFor(() => leaderOf().length === 1, 'a single leader');
    const leader = leaderOf()[0];
    const commands = Array.from({ length: 50 }, (_, i) => `set x ${i}`);
    const results = await Promise.all(commands.map((c) => leader.propose(bytes(c))));
    expect(results.length).toBe(50);
    await waitFor(() => machines.every((m) => m.items.length === 50), 'every node to apply all 50');
    for (const m of machines) expect(m.items).toEqual(commands);
    const leaderTransport = transports[ids.indexOf(leader.id)];
    for (const [peer, stats] of Object.entries(leaderTransport.stats().peers)) {
      expect(stats.stream, `leader's link to ${peer}`).toBe('open');
      expect(stats.sent).toBeGreaterThan(0);
    }
    expect(leaderTransport.stats().inbound.streams).toBe(2);
  });
});
