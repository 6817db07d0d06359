import { RaftNode, seededRandom, type NodeId, type RaftError } from '@raftkit/core';
import { MemoryLogStorage, MemoryLogStore } from '@raftkit/log-memory';
import { MemoryNetwork, type LinkFaults, type MemoryTransport } from '@raftkit/transport-memory';
import {
  KvClient,
  createKvReplica,
  keepLeases,
  type KvClientOptions,
  type KvCommandResult,
  type KvRaftReplica,
  type KvReplicaOptions,
  type KvStateMachine,
  type KvStateMachineOptions,
} from '../../src/index.js';
import { SlowDisk } from './slowDisk.js';
import { VirtualClock } from './virtualClock.js';

export interface ClusterOptions {
  readonly size: number;
  readonly seed?: number;
  readonly snapshotEvery?: number;
  /** Log entries kept below a snapshot (the core's default is 5000: followers rarely need one). */
  readonly snapshotTrailing?: number;
  readonly kv?: KvStateMachineOptions;
  readonly checkQuorum?: boolean;
  readonly faults?: LinkFaults;
  readonly requestTimeoutMs?: number;
  /** Builds each boot's state machine (e.g. an audited one); default: createKvReplica's own. */
  readonly machine?: () => KvStateMachine;
  /** Writes take up to this many virtual ms, so a crash can lose the write in progress. */
  readonly slowDiskMs?: number;
}

interface Booted {
  readonly replica: KvRaftReplica;
  readonly disk: SlowDisk | null;
  readonly transport: MemoryTransport;
}

const TICK_MS = 10;

/**
 * An in-process cluster of RaftNodes with KvStateMachines on MemoryLogStorage and a
 * MemoryNetwork, all driven by one VirtualClock. A crash stops a node; a restart reopens its
 * MemoryLogStore, so it keeps exactly what was persisted.
 */
export class TestCluster {
  readonly clock = new VirtualClock();
  readonly net: MemoryNetwork;
  readonly ids: NodeId[];
  /** Fatal node errors; a test fails if any appear. */
  readonly errors: { id: NodeId; error: RaftError }[] = [];
  private readonly stores = new Map<NodeId, MemoryLogStore>();
  private readonly live = new Map<NodeId, Booted>();
  private readonly random: () => number;
  private boots = 0;
  /** Times any node became leader. */
  leaderChanges = 0;
  /** Boots that restored the state machine from a stored snapshot. */
  snapshotBoots = 0;
  /** Crashes that lost an unsynced write (a commit index) from the page cache. */
  lostUnsynced = 0;

  constructor(readonly opts: ClusterOptions) {
    this.ids = Array.from({ length: opts.size }, (_, i) => `n${i + 1}`);
    const seed = opts.seed ?? 1;
    this.random = seededRandom(seed * 7919 + 17);
    this.net = new MemoryNetwork({ seed, scheduler: this.clock, ...(opts.faults ? { faults: opts.faults } : {}) });
    for (const id of this.ids) this.stores.set(id, new MemoryLogStore());
  }

  async start(): Promise<void> {
    for (const id of this.ids) await this.boot(id);
  }

  /** Opens node `id` on its store (fresh or surviving a crash) and starts it. */
  async boot(id: NodeId): Promise<KvRaftReplica> {
    const seed = Math.floor(this.random() * 2 ** 31) + ++this.boots;
    const memory = MemoryLogStorage.open(this.stores.get(id)!);
    const maxMs = this.opts.slowDiskMs ?? 0;
    const disk = maxMs > 0 ? new SlowDisk(memory, this.clock, seededSpan(seed, maxMs)) : null;
    const transport = this.net.transport(id);
    const options: KvReplicaOptions = {
      id,
      voters: this.ids,
      storage: disk ?? memory,
      transport,
      clock: this.clock,
      random: seededRandom(seed),
      tickMs: TICK_MS,
      electionTicks: 10,
      heartbeatTicks: 2,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 3_000,
      ...(this.opts.snapshotEvery ? { snapshotEvery: this.opts.snapshotEvery } : {}),
      ...(this.opts.snapshotTrailing !== undefined ? { snapshots: { trailingEntries: this.opts.snapshotTrailing } } : {}),
      ...(this.opts.checkQuorum !== undefined ? { checkQuorum: this.opts.checkQuorum } : {}),
      ...(this.opts.kv ? { kv: this.opts.kv } : {}),
    };
    const replica = this.opts.machine ? await this.bootWith(options, this.opts.machine()) : await createKvReplica(options);
    replica.node.on('error', (error) => this.errors.push({ id, error }));
    replica.node.on('stateChange', (s) => void (s.role === 'leader' && this.leaderChanges++));
    if (this.stores.get(id)!.snapshot()) this.snapshotBoots++;
    await replica.node.start();
    this.live.set(id, { replica, disk, transport });
    return replica;
  }

  private async bootWith(options: KvReplicaOptions, machine: KvStateMachine): Promise<KvRaftReplica> {
    const node = await RaftNode.create<KvCommandResult>({ ...options, stateMachine: machine });
    const leases = keepLeases(node, machine, { clock: this.clock, electionTimeoutMs: (options.electionTicks ?? 10) * TICK_MS });
    return { node, machine, checkQuorum: options.checkQuorum ?? true, clock: this.clock, leases };
  }

  /**
   * Crashes node `id`: it is cut off at once and keeps only what its store holds; a write
   * still on its way to a slow disk is lost. Without a slow disk this is a clean stop.
   */
  async crash(id: NodeId): Promise<void> {
    const b = this.live.get(id);
    if (!b) return;
    this.live.delete(id);
    if (!b.disk) return b.replica.node.stop();
    if (b.disk.crash(b.disk.hasUnsynced() ? this.random() < 0.5 : true)) this.lostUnsynced++;
    // The lost write fails the dead node; that is the crash, not an error to report.
    b.replica.node.removeAllListeners('error');
    b.replica.node.on('error', () => {});
    void b.replica.node.stop();
    await b.transport.close();
  }

  /** The durable "disk" of node `id`, which survives its crashes. */
  store(id: NodeId): MemoryLogStore {
    return this.stores.get(id)!;
  }

  isUp(id: NodeId): boolean {
    return this.live.has(id);
  }

  replica(id: NodeId): KvRaftReplica {
    const b = this.live.get(id);
    if (!b) throw new Error(`node ${id} is down`);
    return b.replica;
  }

  /** Running replicas, `first` (if up) first, then in id order after it. */
  up(first?: NodeId): KvRaftReplica[] {
    const start = first ? Math.max(0, this.ids.indexOf(first)) : 0;
    const order = [...this.ids.slice(start), ...this.ids.slice(0, start)];
    return order.filter((id) => this.live.has(id)).map((id) => this.live.get(id)!.replica);
  }

  /** The leader of the highest term among running nodes, if any. */
  leader(): KvRaftReplica | undefined {
    let best: KvRaftReplica | undefined;
    for (const { replica: r } of this.live.values()) {
      const st = r.node.status();
      if (st.role === 'leader' && (!best || st.term > best.node.status().term)) best = r;
    }
    return best;
  }

  async waitForLeader(maxMs = 10_000): Promise<KvRaftReplica> {
    await this.clock.until(() => {
      const l = this.leader();
      // Every running node must know it, so follower reads and hints work right away.
      return l !== undefined && this.up().every((r) => r.node.status().leader === l.node.id);
    }, maxMs);
    return this.leader()!;
  }

  followers(): KvRaftReplica[] {
    const l = this.leader();
    return this.up().filter((r) => r !== l);
  }

  /** A client over every running replica (re-read per attempt), preferring `home`. */
  client(home?: NodeId, options: KvClientOptions = {}): KvClient {
    return new KvClient(() => this.up(home), { clock: this.clock, wallClock: () => this.clock.now(), ...options });
  }

  /** A client bound to one replica, as a server on that node would be. */
  clientOn(replica: KvRaftReplica, options: KvClientOptions = {}): KvClient {
    return new KvClient(replica, { clock: this.clock, wallClock: () => this.clock.now(), ...options });
  }

  async stop(): Promise<void> {
    for (const id of [...this.live.keys()]) await this.crash(id);
    await this.net.close();
  }
}

/** Seeded write durations in [0, maxMs] virtual ms. */
function seededSpan(seed: number, maxMs: number): () => number {
  const rand = seededRandom(seed ^ 0x5bd1e995);
  return () => Math.floor(rand() * (maxMs + 1));
}

/** Runs the cluster until `p` settles; fails the test if it rejected. */
export async function ok<T>(c: TestCluster, p: Promise<T>): Promise<T> {
  const r = await c.clock.settleOf(p);
  if (!r.ok) throw r.error;
  return r.value;
}

/** Runs the cluster until `p` settles; fails the test if it resolved. Returns the error. */
export async function fails(c: TestCluster, p: Promise<unknown>): Promise<unknown> {
  const r = await c.clock.settleOf(p);
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.value)}`);
  return r.error;
}
