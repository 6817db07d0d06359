// A randomized cluster of pure cores over disks that lose unsynced writes in a crash, checking
// every Ready: each message it carries must be backed by what the sender has synced once the
// Ready's persistence part is done (synced only if the Ready says so).
import { RawNode, seededRandom, type RaftConfig, type Ready } from '../../src/consensus/index.js';
import type { Message, NodeId, SnapshotMeta } from '../../src/consensus/types.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
import { bytes } from './cluster.js';
import { SyncedDisk, checkMessage, type Reliance } from './syncedDisk.js';

/** Whether a Ready's write is synced; the core's own answer is `rd.mustSync`. */
export type SyncOf = (rd: Ready) => boolean;

export interface SyncCheckOptions {
  ids: NodeId[];
  seed: number;
  steps: number;
  config?: Partial<RaftConfig>;
  syncOf?: SyncOf;
}

interface SimNode {
  raw: RawNode;
  disk: SyncedDisk;
}

export class SyncCheckedCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  queue: Message[] = [];
  readonly violations: string[] = [];
  /**
   * Messages whose promise became durable only through the Ready that carried them, by kind:
   * the situations the check is about (a message whose promise was synced earlier proves nothing).
   */
  readonly fresh: Record<Reliance, number> = { 'vote grant': 0, 'own vote request': 0, term: 0, 'entries ack': 0 };
  /** Readies that must sync for their term or vote alone (no entries, no snapshot). */
  hardStateOnlySyncs = 0;
  private readonly grants = new Map<string, NodeId>();
  private readonly leaderOf = new Map<number, NodeId>();
  private readonly rng: () => number;
  private restarts = 0;
  private readonly syncOf: SyncOf;

  constructor(readonly opts: SyncCheckOptions) {
    this.rng = seededRandom(opts.seed);
    this.syncOf = opts.syncOf ?? ((rd) => rd.mustSync);
    for (const id of opts.ids) this.boot(id, new SyncedDisk());
  }

  private boot(id: NodeId, disk: SyncedDisk): void {
    const store = disk.crash();
    const config: RaftConfig = {
      id,
      voters: this.opts.ids,
      electionTicks: 10,
      heartbeatTicks: 1,
      random: seededRandom(this.opts.seed * 7919 + this.opts.ids.indexOf(id) * 101 + this.restarts++),
      ...this.opts.config,
    };
    this.nodes.set(id, { raw: new RawNode(config, { hardState: store.hardState, entries: store.entries, snapshot: store.snapshot }), disk });
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng() * xs.length)]!;
  }

  flush(id: NodeId): void {
    const n = this.nodes.get(id)!;
    while (n.raw.hasReady()) {
      const rd = n.raw.ready();
      const before = n.disk.synced;
      const sync = this.syncOf(rd);
      if (rd.entries.length > 0 || rd.hardState || rd.snapshot) n.disk.write(rd.snapshot, rd.entries, rd.hardState, sync);
      const termOrVote = rd.hardState !== null && (rd.hardState.term !== before.hardState.term || rd.hardState.vote !== before.hardState.vote);
      if (termOrVote && rd.entries.length === 0 && !rd.snapshot) this.hardStateOnlySyncs++;
      for (const m of rd.messages) this.check(m, n, before, rd);
      this.queue.push(...rd.messages);
      n.raw.advance(rd);
    }
    const st = n.raw.status();
    if (st.role === 'leader') {
      const other = this.leaderOf.get(st.term);
      if (other !== undefined && other !== id) this.violations.push(`two leaders in term ${st.term}: ${other} and ${id}`);
      this.leaderOf.set(st.term, id);
    }
  }

  private check(m: Message, n: SimNode, before: SimNode['disk']['synced'], rd: Ready): void {
    const now = checkMessage(m, n.disk.synced, n.disk.written);
    this.violations.push(...now.violations.map((v) => v.text));
    // What this message relies on that only this Ready's write made durable.
    const earlier = checkMessage(m, before, n.disk.written).violations;
    for (const v of earlier) this.fresh[v.kind]++;
    if (earlier.length > 0 && !rd.mustSync) this.violations.push(`Ready with mustSync false carries: ${earlier.map((v) => v.text).join('; ')}`);
    if (m.type === 'voteResponse' && m.granted && !m.preVote) {
      const key = `${m.term}:${m.from}`;
      const prev = this.grants.get(key);
      if (prev !== undefined && prev !== m.to) this.violations.push(`${m.from} voted twice in term ${m.term}: for ${prev} and ${m.to}`);
      this.grants.set(key, m.to);
    }
  }

  /** One random action: deliver (out of order), drop, duplicate, tick, propose, compact, crash or campaign. */
  step(): void {
    const r = this.rng();
    const ids = this.opts.ids;
    if (r < 0.45 && this.queue.length > 0) {
      const i = Math.floor(this.rng() * this.queue.length);
      const [m] = this.queue.splice(i, 1);
      this.nodes.get(m!.to)!.raw.step(m!);
      this.flush(m!.to);
    } else if (r < 0.5 && this.queue.length > 0) {
      this.queue.splice(Math.floor(this.rng() * this.queue.length), 1);
    } else if (r < 0.53 && this.queue.length > 0) {
      this.queue.push(this.pick(this.queue));
    } else if (r < 0.85) {
      const id = this.pick(ids);
      this.nodes.get(id)!.raw.tick();
      this.flush(id);
    } else if (r < 0.93) {
      const leader = ids.find((id) => this.nodes.get(id)!.raw.status().role === 'leader');
      if (leader === undefined) return;
      this.nodes.get(leader)!.raw.propose(bytes(`p${Math.floor(this.rng() * 1e6)}`));
      this.flush(leader);
    } else if (r < 0.96) {
      this.compact(this.pick(ids));
    } else if (r < 0.985) {
      const id = this.pick(ids);
      this.boot(id, this.nodes.get(id)!.disk); // crash: only what was synced survives
      this.flush(id);
    } else {
      const id = this.pick(ids);
      this.nodes.get(id)!.raw.campaign();
      this.flush(id);
    }
  }

  /** The node snapshots its state machine at its applied index and compacts its log (§7). */
  private compact(id: NodeId): void {
    const n = this.nodes.get(id)!;
    const st = n.raw.status();
    if (st.appliedIndex <= st.snapshotIndex) return;
    const meta: SnapshotMeta = { index: st.appliedIndex, term: n.raw.term(st.appliedIndex), voters: this.opts.ids };
    n.disk.installSnapshot({ meta, data: new Uint8Array(0), size: 0, checksum: EMPTY_SHA256 });
    n.raw.snapshotTaken(meta);
    n.disk.compact(meta.index);
    n.raw.compact(meta.index);
  }

  run(): this {
    for (let i = 0; i < this.opts.steps; i++) this.step();
    return this;
  }
}
