import { RawNode, seededRandom, type RaftConfig } from '../../src/consensus/index.js';
import { EntryType, type Message, type NodeId } from '../../src/consensus/types.js';
import { bytes, newStore, persist, str, type DurableStore } from '../../src/testing/durableStore.js';

export { bytes, newStore, persist, str, type DurableStore };

export interface TestNode {
  id: NodeId;
  raw: RawNode;
  store: DurableStore;
  /** Data of every entry applied, in order, as strings. */
  applied: { index: number; term: number; data: string }[];
  readStates: { requestId: string; index: number }[];
}


/**
 * A cluster of pure cores wired by a message queue the test controls: nothing happens unless
 * the test ticks a node or delivers a message. Readies are processed as the ordering rule
 * says: persist, then send, then apply.
 */
export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = [];
  /** Messages matching this are discarded instead of queued. */
  dropIf: (m: Message) => boolean = () => false;

  constructor(
    readonly ids: NodeId[],
    readonly overrides: Partial<RaftConfig> = {},
    readonly seed = 1,
  ) {
    for (const id of ids) this.start(id, newStore());
  }

  /** Nodes started empty with `voters: []`, waiting for a leader to add them. */
  readonly joined = new Set<NodeId>();

  config(id: NodeId): RaftConfig {
    return { id, voters: this.joined.has(id) ? [] : this.ids.filter((i) => !this.joined.has(i)), electionTicks: 10, heartbeatTicks: 1, random: seededRandom(this.seed * 1000 + this.ids.indexOf(id)), ...this.overrides };
  }

  start(id: NodeId, store: DurableStore): TestNode {
    const raw = new RawNode(this.config(id), { hardState: store.hardState, entries: store.entries, snapshot: store.snapshot, compacted: store.compacted });
    const node: TestNode = { id, raw, store, applied: [], readStates: [] };
    this.nodes.set(id, node);
    return node;
  }

  /** Starts a brand-new, empty node that joins the cluster (it knows no voters until added). */
  join(id: NodeId, overrides: Partial<RaftConfig> = {}): TestNode {
    this.ids.push(id);
    this.joined.add(id);
    const raw = new RawNode({ ...this.config(id), ...overrides });
    const node: TestNode = { id, raw, store: newStore(), applied: [], readStates: [] };
    this.nodes.set(id, node);
    return node;
  }

  /** Crash and restart: the node keeps only its durable store. */
  restart(id: NodeId): TestNode {
    const old = this.node(id);
    this.queue = this.queue.filter((m) => m.to !== id);
    return this.start(id, { ...old.store, entries: [...old.store.entries] });
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Processes every pending Ready of a node. */
  flush(id: NodeId): void {
    const n = this.node(id);
    while (n.raw.hasReady()) {
      const rd = n.raw.ready();
      persist(n.store, rd.snapshot, rd.entries, rd.hardState);
      for (const m of rd.messages) if (!this.dropIf(m)) this.queue.push(m);
      // A configuration entry (the first leader's bootstrap configuration) is not application
      // data: it shows as '' like a leader's no-op.
      for (const e of rd.committedEntries) {
        n.applied.push({ index: e.index, term: e.term, data: e.type === EntryType.ConfChange ? '' : str(e.data) });
      }
      n.readStates.push(...rd.readStates);
      n.raw.advance(rd);
    }
  }

  flushAll(): void {
    for (const id of this.ids) this.flush(id);
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.node(id).raw.tick();
      this.flush(id);
    }
  }

  /** Removes and returns queued messages matching `pred`. */
  take(pred: (m: Message) => boolean = () => true): Message[] {
    const taken = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    return taken;
  }

  deliver(m: Message): void {
    this.node(m.to).raw.step(m);
    this.flush(m.to);
  }

  /** Delivers queued messages (and those they cause) until the queue is empty. */
  stabilize(maxRounds = 1000): void {
    this.flushAll();
    for (let i = 0; i < maxRounds && this.queue.length > 0; i++) {
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
    }
  }

  /** Makes `id` campaign and runs the election to completion. */
  elect(id: NodeId): void {
    this.node(id).raw.campaign();
    this.flush(id);
    this.stabilize();
  }

  propose(id: NodeId, data: string): number {
    const { index } = this.node(id).raw.propose(bytes(data));
    this.flush(id);
    return index;
  }

  leaders(): NodeId[] {
    return this.ids.filter((id) => this.node(id).raw.status().role === 'leader');
  }

  status(id: NodeId) {
    return this.node(id).raw.status();
  }

  logTerms(id: NodeId): number[] {
    const s = this.status(id);
    return this.node(id).raw.entries(s.snapshotIndex + 1, s.lastIndex + 1).map((e) => e.term);
  }
}
