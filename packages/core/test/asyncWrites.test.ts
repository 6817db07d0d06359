// asyncStorageWrites (thesis §10.2.1, etcd's AsyncStorageWrites): a leader replicates in
// parallel with its own disk write and counts itself toward the commit quorum only once that
// write is durable; everything a follower or candidate says still waits for its write.
import { describe, expect, test } from 'vitest';
import { RawNode, seededRandom, type RaftConfig, type Ready } from '../src/consensus/index.js';
import type { Message, NodeId } from '../src/consensus/types.js';
import { bytes, newStore, persist, type DurableStore } from '../src/testing/durableStore.js';

interface Node {
  id: NodeId;
  raw: RawNode;
  store: DurableStore;
  /** Readies handed to the disk, not yet durable, in order. */
  writes: Ready[];
}

/** A cluster of pipelining cores; the test decides when each node's disk completes a write. */
class AsyncCluster {
  readonly nodes = new Map<NodeId, Node>();
  queue: Message[] = [];
  /** Messages sent before the sender's own write was durable. */
  early: Message[] = [];

  constructor(ids: NodeId[], overrides: Partial<RaftConfig> = {}, voters: NodeId[] = ids) {
    for (const id of ids) {
      const config: RaftConfig = { id, voters: voters.includes(id) ? voters : [], electionTicks: 10, heartbeatTicks: 1, random: seededRandom(ids.indexOf(id) + 1), asyncStorageWrites: true, ...overrides };
      this.nodes.set(id, { id, raw: new RawNode(config), store: newStore(), writes: [] });
    }
  }

  node(id: NodeId): Node {
    return this.nodes.get(id)!;
  }

  /** Takes every Ready: early messages leave now, writes queue up, entries apply. */
  handOff(id: NodeId): void {
    const n = this.node(id);
    while (n.raw.hasReady()) {
      const rd = n.raw.ready();
      this.queue.push(...rd.messagesBeforePersist);
      this.early.push(...rd.messagesBeforePersist);
      n.writes.push(rd);
      n.raw.advance(rd);
    }
  }

  /** The node's disk completes its oldest `count` writes; their messages leave. */
  complete(id: NodeId, count = Infinity): void {
    const n = this.node(id);
    for (let i = 0; i < count && n.writes.length > 0; i++) {
      const rd = n.writes.shift()!;
      if (rd.snapshot || rd.entries.length > 0 || rd.hardState) {
        persist(n.store, rd.snapshot, rd.entries, rd.hardState, rd.mustSync);
        n.raw.persisted(rd);
      }
      this.queue.push(...rd.messages);
    }
  }

  /** Hands off and completes everything on every node, delivering messages, until quiet. */
  settle(): void {
    for (let round = 0; round < 100; round++) {
      for (const id of this.nodes.keys()) {
        this.handOff(id);
        this.complete(id);
        this.handOff(id);
      }
      if (this.queue.length === 0) return;
      this.deliverAll();
    }
    throw new Error('did not settle');
  }

  deliverAll(pred: (m: Message) => boolean = () => true): void {
    const now = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    for (const m of now) this.node(m.to).raw.step(m);
  }

  elect(id: NodeId): void {
    this.node(id).raw.campaign();
    this.settle();
    expect(this.node(id).raw.status().role).toBe('leader');
    this.early = [];
  }
}

describe('asyncStorageWrites: the leader writes in parallel with replication (thesis §10.2.1)', () => {
  test('the leader sends AppendEntries with a new entry before that entry is durable on its own disk', () => {
    const c = new AsyncCluster(['a', 'b', 'c']);
    c.elect('a');
    const index = c.node('a').raw.propose(bytes('x')).index;
    c.handOff('a');
    const appends = c.early.filter((m) => m.type === 'append' && m.entries.some((e) => e.index === index));
    expect(appends.map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(c.node('a').store.entries.some((e) => e.index === index)).toBe(false);
  });

  test('the leader counts its own entry toward the commit quorum only once that entry is durable', () => {
    const c = new AsyncCluster(['a', 'b', 'c']);
    c.elect('a');
    const a = c.node('a');
    const before = a.raw.status().commitIndex;
    const index = a.raw.propose(bytes('x')).index;
    c.handOff('a');
    // Only b receives it, persists it and acknowledges: b and a make a majority only once a's
    // own write is durable.
    c.deliverAll((m) => m.to === 'b');
    c.queue = c.queue.filter((m) => m.to !== 'c');
    c.handOff('b');
    c.complete('b');
    c.deliverAll((m) => m.to === 'a' && m.type === 'appendResponse');
    c.handOff('a');
    expect(a.raw.status().progress.b!.match).toBe(index);
    expect(a.raw.status().commitIndex).toBe(before);
    c.complete('a');
    expect(a.raw.status().commitIndex).toBe(index);
  });

  test('the planted bug countSelfBeforeDurable commits before the leader\'s own write (the check above can fail)', () => {
    const c = new AsyncCluster(['a', 'b', 'c'], { testingBugs: { countSelfBeforeDurable: true } });
    c.elect('a');
    const a = c.node('a');
    const index = a.raw.propose(bytes('x')).index;
    c.handOff('a');
    c.deliverAll((m) => m.to === 'b');
    c.handOff('b');
    c.complete('b');
    c.deliverAll((m) => m.to === 'a' && m.type === 'appendResponse');
    expect(a.raw.status().commitIndex).toBe(index);
    expect(a.store.entries.some((e) => e.index === index)).toBe(false);
  });

  test('committed entries are handed out for applying only once durable locally', () => {
    const c = new AsyncCluster(['a', 'b', 'c']);
    c.elect('a');
    const index = c.node('a').raw.propose(bytes('x')).index;
    c.handOff('a');
    c.deliverAll((m) => m.to === 'b' || m.to === 'c');
    c.handOff('b');
    c.handOff('c');
    c.complete('b');
    c.complete('c');
    c.deliverAll((m) => m.to === 'a');
    // b and c make a quorum without a; a's own write is still in flight.
    const a = c.node('a');
    expect(a.raw.status().commitIndex).toBe(index);
    const rd = a.raw.ready();
    expect(rd.committedEntries.map((e) => e.index)).not.toContain(index);
    a.raw.advance(rd);
    a.writes.push(rd);
    c.complete('a');
    expect(a.raw.ready().committedEntries.map((e) => e.index)).toContain(index);
  });
});

describe('asyncStorageWrites: what still waits for the disk (Ready ordering rules 2 and 3)', () => {
  test('a follower acknowledges entries only after its write: its appendResponse is never sent early', () => {
    const c = new AsyncCluster(['a', 'b', 'c']);
    c.elect('a');
    c.node('a').raw.propose(bytes('x'));
    c.handOff('a');
    c.deliverAll((m) => m.to === 'b');
    const b = c.node('b');
    const rd = b.raw.ready();
    expect(rd.entries.length).toBe(1);
    expect(rd.messagesBeforePersist).toEqual([]);
    expect(rd.messages.some((m) => m.type === 'appendResponse')).toBe(true);
  });

  test('a candidate\'s vote requests and a voter\'s grant wait for their durable vote', () => {
    const c = new AsyncCluster(['a', 'b', 'c'], { preVote: false });
    const a = c.node('a');
    a.raw.campaign();
    const rd = a.raw.ready();
    expect(rd.mustSync).toBe(true);
    expect(rd.messagesBeforePersist).toEqual([]);
    expect(rd.messages.filter((m) => m.type === 'vote').map((m) => m.to).sort()).toEqual(['b', 'c']);
    a.raw.advance(rd);
    a.raw.persisted(rd);
    const b = c.node('b');
    b.raw.step(rd.messages.find((m) => m.to === 'b')!);
    const brd = b.raw.ready();
    expect(brd.messagesBeforePersist).toEqual([]);
    expect(brd.messages.find((m) => m.type === 'voteResponse')).toMatchObject({ granted: true });
  });

  test('a single voter that elects itself sends its learner nothing before its term and vote are durable', () => {
    // Else: the leader crashes before its vote is durable, wins the same term again and sends
    // the learner a different entry at the same index and term (log matching broken).
    const c = new AsyncCluster(['a', 'l'], {}, ['a']);
    c.elect('a');
    c.node('a').raw.proposeConfChange({ changes: [{ type: 'addLearner', node: 'l' }] });
    c.settle();
    // a restarts from its disk and elects itself again, in a term not yet durable.
    const a = c.node('a');
    a.raw = new RawNode({ id: 'a', voters: ['a'], electionTicks: 10, heartbeatTicks: 1, random: seededRandom(9), asyncStorageWrites: true }, { hardState: a.store.hardState, entries: a.store.entries, snapshot: a.store.snapshot });
    a.raw.campaign();
    const rd = a.raw.ready();
    expect(rd.softState).toMatchObject({ role: 'leader', term: a.store.hardState.term + 1 });
    expect(rd.messagesBeforePersist).toEqual([]);
    expect(rd.messages.some((m) => m.type === 'append' && m.to === 'l')).toBe(true);
    a.raw.advance(rd);
    a.raw.persisted(rd);
    // Once l has answered (a probe waits for that), a's next append to it leaves at once.
    c.queue.push(...rd.messages);
    c.settle();
    a.raw.propose(bytes('y'));
    expect(a.raw.ready().messagesBeforePersist.some((m) => m.type === 'append' && m.to === 'l')).toBe(true);
  });

  test('persisted() out of Ready order is refused', () => {
    const c = new AsyncCluster(['a', 'b', 'c']);
    c.elect('a');
    const a = c.node('a');
    a.raw.propose(bytes('1'));
    const first = a.raw.ready();
    a.raw.advance(first);
    a.raw.propose(bytes('2'));
    const second = a.raw.ready();
    a.raw.advance(second);
    expect(() => a.raw.persisted(second)).toThrow(/Ready order/);
  });

  test('a commit-only change is an unsynced write; the next Ready needs no earlier write to finish', () => {
    const c = new AsyncCluster(['a', 'b', 'c']);
    c.elect('a');
    const a = c.node('a');
    const index = a.raw.propose(bytes('x')).index;
    c.handOff('a');
    c.complete('a');
    c.deliverAll();
    for (const id of ['b', 'c']) {
      c.handOff(id);
      c.complete(id);
    }
    c.deliverAll((m) => m.to === 'a');
    const rd = a.raw.ready();
    expect(rd.hardState?.commit).toBe(index);
    expect(rd.entries).toEqual([]);
    expect(rd.mustSync).toBe(false);
    expect(rd.messagesBeforePersist.some((m) => m.type === 'append')).toBe(true);
  });
});
