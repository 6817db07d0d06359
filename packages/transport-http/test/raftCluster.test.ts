import { ErrorCode, MAX_TERM, RaftNode, seededRandom } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type HttpTransport, encodeMessages } from '../src/index.js';
import { ListMachine, MemoryStorage } from './helpers/memoryStorage.js';
import { listenAll, waitFor } from './helpers/net.js';
import { call, signedHeaders } from './helpers/requests.js';

const ids: NodeId[] = ['n1', 'n2', 'n3'];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Member {
  readonly node: RaftNode<number>;
  readonly machine: ListMachine;
  readonly transport: HttpTransport;
}

let members: Member[] = [];
afterEach(async () => {
  // stop() also closes each node's transport and the server it listens with.
  await Promise.all(members.map((m) => m.node.stop()));
  members = [];
});

/** Three RaftNodes over HttpTransport on 127.0.0.1, 10 ms ticks (elections in 100-200 ms). */
async function startCluster(): Promise<Member[]> {
  const transports = await listenAll(ids);
  members = await Promise.all(
    ids.map(async (id, i) => {
      const machine = new ListMachine();
      const node = await RaftNode.create<number>({
        id,
        voters: ids,
        storage: new MemoryStorage(),
        transport: transports[i],
        stateMachine: machine,
        tickMs: 10,
        electionTicks: 10,
        random: seededRandom(100 + i),
      });
      return { node, machine, transport: transports[i] };
    }),
  );
  await Promise.all(members.map((m) => m.node.start()));
  return members;
}

function leaderOf(running: readonly Member[]): Member | undefined {
  const leaders = running.filter((m) => m.node.status().role === 'leader');
  return leaders.length === 1 ? leaders[0] : undefined;
}

describe('a 3-node RaftNode cluster over HttpTransport (Raft §5.2, §5.3)', () => {
  it('elects one leader and commits proposals on every node over real sockets', async () => {
    const cluster = await startCluster();
    await waitFor(() => leaderOf(cluster) !== undefined, 'a single leader');
    const leader = leaderOf(cluster)!;
    const commands = Array.from({ length: 20 }, (_, i) => `set x ${i}`);
    const results = await Promise.all(commands.map((c) => leader.node.propose(bytes(c))));
    expect(results).toEqual(commands.map((_, i) => i + 1));
    await waitFor(() => cluster.every((m) => m.machine.items.length === commands.length), 'every node to apply');
    for (const m of cluster) expect(m.machine.items).toEqual(commands);
    const stats = leader.transport.stats();
    for (const peer of ids.filter((id) => id !== leader.node.id)) {
      expect(stats.peers[peer].sent).toBeGreaterThan(0);
      expect(stats.peers[peer].received).toBeGreaterThan(0);
    }
  });

  it('elects a new leader when the leader stops, and keeps committing with two nodes', async () => {
    const cluster = await startCluster();
    await waitFor(() => leaderOf(cluster) !== undefined, 'a first leader');
    const first = leaderOf(cluster)!;
    await first.node.propose(bytes('before'));
    // Without a handover (stop() of a leader transfers leadership by default): an election.
    await first.node.stop({ transferLeadership: false });
    const rest = cluster.filter((m) => m !== first);
    await waitFor(() => leaderOf(rest) !== undefined, 'a second leader', 10_000);
    const second = leaderOf(rest)!;
    expect(second.node.status().term).toBeGreaterThan(first.node.status().term);
    await second.node.propose(bytes('after'));
    await waitFor(() => rest.every((m) => m.machine.items.join() === 'before,after'), 'both survivors to apply');
    expect(second.transport.stats().peers[first.node.id].failures).toBeGreaterThan(0);
  });
});

/**
 * A correctly signed heartbeat whose term is `term`, which the encoder refuses to write: the
 * bytes are patched (batch header 7, tag 1, from and to 2 + 2 bytes each, then the term).
 */
function forgedHeartbeat(from: NodeId, to: NodeId, term: number): { body: Uint8Array; headers: Record<string, string> } {
  const body = encodeMessages([{ type: 'heartbeat', from, to, term: 1, commit: 0, context: 0 }]);
  new DataView(body.buffer, body.byteOffset).setBigUint64(7 + 1 + 2 + from.length + 2 + to.length, BigInt(term));
  return { body, headers: signedHeaders(body, { from, to }) };
}

// Issue 9 item 9: one signed message with term 2^53 - 1 wedged the cluster for good (every node
// adopted the term and could never campaign again, term + 1 not being a safe integer).
describe('a signed message with a term above MAX_TERM', () => {
  it('is refused with 400 RAFT_BAD_MESSAGE, leaves every term alone, and the cluster still elects and commits', async () => {
    const cluster = await startCluster();
    await waitFor(() => leaderOf(cluster) !== undefined, 'a first leader');
    const first = leaderOf(cluster)!;
    await first.node.propose(bytes('before'));
    const terms = cluster.map((m) => m.node.status().term);
    for (const term of [Number.MAX_SAFE_INTEGER, MAX_TERM + 1]) {
      for (const target of cluster) {
        const sender = cluster.find((m) => m !== target)!.node.id;
        const { body, headers } = forgedHeartbeat(sender, target.node.id, term);
        const answer = await call(target.transport.url!, { body, headers });
        expect(answer.status, `term ${term} to ${target.node.id}`).toBe(400);
        expect(answer.body).toMatchObject({ error: { code: ErrorCode.BadMessage, message: expect.stringMatching(/above MAX_TERM/) } });
      }
    }
    expect(cluster.map((m) => m.node.status().term)).toEqual(terms);

    // Still able to elect: the leader stops, the other two elect one of them and commit.
    // Without a handover (stop() of a leader transfers leadership by default): an election.
    await first.node.stop({ transferLeadership: false });
    const rest = cluster.filter((m) => m !== first);
    await waitFor(() => leaderOf(rest) !== undefined, 'a second leader', 10_000);
    const second = leaderOf(rest)!;
    expect(second.node.status().term).toBeLessThan(MAX_TERM);
    await second.node.propose(bytes('after'));
    await waitFor(() => rest.every((m) => m.machine.items.join() === 'before,after'), 'both survivors to apply');
  });
});
