// A 3-node raftkit cluster in one process, on the in-memory log and transport: it elects a
// leader, replicates proposals, loses its leader, elects another, and brings the old one back.
import { RaftNode, snapshotBytes, type SnapshotStream, type StateMachine } from '@raftkit/core';
import { MemoryLogStorage, MemoryLogStore } from '@raftkit/log-memory';
import { MemoryNetwork } from '@raftkit/transport-memory';

const ids = ['n1', 'n2', 'n3'];
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The replicated application: an ordered list of strings. */
class ListMachine implements StateMachine<number> {
  items: string[] = [];
  apply(e: { data: Uint8Array }): number {
    this.items.push(dec.decode(e.data));
    return this.items.length;
  }
  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify(this.items));
  }
  async restore(data: SnapshotStream): Promise<void> {
    this.items = JSON.parse(dec.decode(await snapshotBytes(data))) as string[];
  }
}

const network = new MemoryNetwork({ seed: 7 });
const stores = new Map(ids.map((id) => [id, new MemoryLogStore()]));
const nodes = new Map<string, { node: RaftNode<number>; sm: ListMachine }>();
const t0 = performance.now();
const log = (msg: string) => console.log(`[${String(Math.round(performance.now() - t0)).padStart(5)} ms] ${msg}`);

async function boot(id: string): Promise<void> {
  const sm = new ListMachine();
  const node = await RaftNode.create<number>({
    id,
    voters: ids,
    storage: MemoryLogStorage.open(stores.get(id)),
    transport: network.transport(id),
    stateMachine: sm,
    tickMs: 20,
  });
  node.on('stateChange', (s) => log(`${id}: ${s.role} in term ${s.term}${s.leader ? `, leader ${s.leader}` : ''}`));
  await node.start();
  nodes.set(id, { node, sm });
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const leader = () => [...nodes.values()].find((n) => n.node.status().role === 'leader');

async function proposeAll(cmds: string[]): Promise<void> {
  const l = await waitFor('a leader', leader);
  for (const c of cmds) {
    const n = await l.node.propose(enc.encode(c));
    log(`${l.node.id}: "${c}" committed and applied as item #${n}`);
  }
}

async function main(): Promise<void> {
  log('starting a 3-node cluster (in-memory log and network)');
  for (const id of ids) await boot(id);
  await proposeAll(['alpha', 'beta', 'gamma']);

  const old = await waitFor('a leader', leader);
  log(`killing the leader ${old.node.id}`);
  await old.node.stop();
  nodes.delete(old.node.id);
  network.isolate(old.node.id);
  const next = await waitFor('a new leader', () => leader());
  log(`new leader: ${next.node.id} (term ${next.node.status().term})`);
  await proposeAll(['delta', 'epsilon']);

  log(`restarting ${old.node.id} from what it had persisted`);
  network.heal();
  await boot(old.node.id);
  const back = nodes.get(old.node.id)!;
  await waitFor('catch-up', () => (back.sm.items.length === 5 ? true : undefined));
  for (const [id, n] of nodes) log(`${id} state: [${n.sm.items.join(', ')}]  ${JSON.stringify(pick(n.node.status()))}`);
  const same = [...nodes.values()].every((n) => n.sm.items.join() === back.sm.items.join());
  log(same ? 'all three nodes agree. done.' : 'NODES DISAGREE');
  for (const n of nodes.values()) await n.node.stop();
  process.exit(same ? 0 : 1);
}

function pick(s: ReturnType<RaftNode['status']>) {
  return { role: s.role, term: s.term, commit: s.commitIndex, applied: s.appliedIndex };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
