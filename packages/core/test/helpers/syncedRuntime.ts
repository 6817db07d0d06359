// Three RaftNodes on a virtual clock over SyncedStorage, checking at every transport send that
// what the message relies on was already synced by its sender.
import type { RaftConfig } from '../../src/consensus/index.js';
import { seededRandom } from '../../src/consensus/index.js';
import type { NodeId } from '../../src/consensus/types.js';
import { RaftNode } from '../../src/runtime/raftNode.js';
import { bytes } from './cluster.js';
import { FakeNetwork, LogMachine, ManualClock, settle } from './fakes.js';
import { SyncedDisk, SyncedStorage, checkMessage, type Reliance } from './syncedDisk.js';

interface Member {
  node: RaftNode<number>;
  storage: SyncedStorage;
}

export class SyncedRuntime {
  readonly clock = new ManualClock();
  readonly net = new FakeNetwork();
  readonly members = new Map<NodeId, Member>();
  readonly violations: string[] = [];
  /** Messages whose promise the sender's latest write had to make durable, by kind. */
  readonly fresh: Record<Reliance, number> = { 'vote grant': 0, 'own vote request': 0, term: 0, 'entries ack': 0 };
  private readonly rng: () => number;
  private boots = 0;

  constructor(
    readonly ids: NodeId[],
    readonly config: Partial<RaftConfig>,
    seed: number,
  ) {
    this.rng = seededRandom(seed);
    this.net.onSend = (m) => {
      const s = this.members.get(m.from)!.storage;
      for (const v of checkMessage(m, s.disk.synced, s.disk.written).violations) {
        this.violations.push(`${v.text} (last storage ops: ${s.ops.slice(-2).join(', ')})`);
      }
      for (const v of checkMessage(m, s.syncedBeforeLastSave, s.disk.written).violations) this.fresh[v.kind]++;
    };
  }

  /** A write takes 0-3 event-loop turns, so messages and proposals interleave with it. */
  private readonly slowDisk = async (): Promise<void> => {
    for (let i = Math.floor(this.rng() * 4); i > 0; i--) await settle();
  };

  async boot(id: NodeId, disk = new SyncedDisk()): Promise<void> {
    const storage = new SyncedStorage(disk, this.slowDisk);
    const node = await RaftNode.create<number>({
      id,
      voters: this.ids,
      storage,
      transport: this.net.transport(id),
      stateMachine: new LogMachine(),
      clock: this.clock,
      tickMs: 10,
      random: seededRandom(++this.boots * 31 + this.ids.indexOf(id)),
      ...this.config,
    });
    this.members.set(id, { node, storage });
    await node.start();
  }

  /** Stops the node and restarts it from what its disk synced (unsynced writes are lost). */
  async crash(id: NodeId): Promise<void> {
    const m = this.members.get(id)!;
    await m.node.stop();
    m.storage.disk.crash();
    await this.boot(id, m.storage.disk);
  }

  /** The leader of the highest term, if any. */
  leader(): NodeId | undefined {
    let best: { id: NodeId; term: number } | undefined;
    for (const [id, m] of this.members) {
      const st = m.node.status();
      if (st.running && st.role === 'leader' && (!best || st.term > best.term)) best = { id, term: st.term };
    }
    return best?.id;
  }

  /**
   * Rounds of: wait for a leader, propose to it, then either cut the leader off until the others
   * elect a new one (and heal), or crash a node. Every send is checked as it happens.
   */
  async run(rounds: number): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      await this.clock.until(() => this.leader() !== undefined, 30_000);
      const leader = this.leader()!;
      for (let i = 0; i < 4; i++) void this.members.get(leader)!.node.propose(bytes(`r${round}.${i}`), { timeoutMs: 1000 }).catch(() => {});
      await this.clock.advance(60);
      if (round % 2 === 0) {
        this.net.down.add(leader);
        await this.clock.until(() => this.leader() !== undefined && this.leader() !== leader, 30_000);
        this.net.down.delete(leader);
        await this.clock.advance(100);
      } else {
        await this.crash(this.ids[Math.floor(this.rng() * this.ids.length)]!);
      }
    }
  }

  async stopAll(): Promise<void> {
    for (const m of this.members.values()) await m.node.stop();
  }
}
