// Issue 10 over real sockets: a member added with its URL is reached only through the address
// the configuration entry carries (RaftNode → updatePeers), forgotten when removed; and a
// leadership transfer (timeoutNow, a vote with transferFrom) works over the binary codec.
import { RaftNode, seededRandom } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../src/index.js';
import { ListMachine, MemoryStorage } from './helpers/memoryStorage.js';
import { SECRET, listenAll, waitFor } from './helpers/net.js';

const ids: NodeId[] = ['n1', 'n2', 'n3'];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Member {
  readonly node: RaftNode<number>;
  readonly machine: ListMachine;
  readonly transport: HttpTransport;
}

let members: Member[] = [];
afterEach(async () => {
  await Promise.all(members.map((m) => m.node.stop({ transferLeadership: false })));
  members = [];
});

async function member(id: NodeId, voters: readonly NodeId[], transport: HttpTransport, seed: number): Promise<Member> {
  const machine = new ListMachine();
  const node = await RaftNode.create<number>({
    id,
    voters,
    storage: new MemoryStorage(),
    transport,
    stateMachine: machine,
    tickMs: 10,
    electionTicks: 10,
    random: seededRandom(seed),
  });
  const m = { node, machine, transport };
  members.push(m);
  await node.start();
  return m;
}

async function startCluster(): Promise<Member[]> {
  const transports = await listenAll(ids);
  return Promise.all(ids.map((id, i) => member(id, ids, transports[i], 200 + i)));
}

async function leaderOf(cluster: readonly Member[]): Promise<Member> {
  await waitFor(() => cluster.filter((m) => m.node.status().role === 'leader').length === 1, 'a single leader');
  return cluster.find((m) => m.node.status().role === 'leader')!;
}

describe('membership over HttpTransport', () => {
  it('a joining node is reached at the URL its change entry carries, replicates, and is forgotten once removed', async () => {
    const cluster = await startCluster();
    const leader = await leaderOf(cluster);
    await leader.node.propose(bytes('before'));
    // The joiner knows the members (it must accept their requests); they do not know it.
    const peers = Object.fromEntries(cluster.map((m) => [m.node.id, m.transport.url!]));
    const joiner = await member('n4', [], await HttpTransport.listen({ id: 'n4', secret: SECRET, peers }), 300);
    expect(leader.transport.stats().peers.n4).toBeUndefined();

    const status = await leader.node.addVoter('n4', joiner.transport.url!);
    expect(status.config.voters).toContain('n4');
    expect(status.addresses.n4).toBe(joiner.transport.url);
    await leader.node.propose(bytes('after'));
    await waitFor(() => joiner.machine.items.join() === 'before,after', 'the joiner to apply both');
    for (const m of cluster) expect(m.transport.stats().peers.n4.url).toBe(`${joiner.transport.url}/`);

    await leader.node.remove('n4');
    await waitFor(() => cluster.every((m) => m.transport.stats().peers.n4.url === null), 'every member to forget n4');
    await leader.node.propose(bytes('without n4'));
    expect(joiner.machine.items).not.toContain('without n4');
  }, 20_000);

  it('transfers leadership over the wire (timeoutNow, then a vote naming the old leader)', async () => {
    const cluster = await startCluster();
    const leader = await leaderOf(cluster);
    await leader.node.propose(bytes('x'));
    const target = cluster.find((m) => m !== leader)!;
    expect(await leader.node.transferLeadership(target.node.id)).toBe(target.node.id);
    expect(target.node.status().role).toBe('leader');
    for (const m of cluster) expect(m.transport.stats().invalidMessages).toBe(0);
    for (const m of cluster) expect(m.transport.stats().inbound.rejected).toEqual({});
  }, 20_000);
});
