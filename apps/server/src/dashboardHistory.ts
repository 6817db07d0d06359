/**
 * What the dashboard remembers of this server process: its role, term and leader over time,
 * and the membership changes it saw, each in a bounded ring (oldest dropped first). Only
 * what this process observed since it started: a restarted node begins a new history.
 */
import type { MembershipStatus, NodeId, RaftNode } from '@raftkit/core';

/**
 * A fixed-capacity ring: `push` drops the oldest item once full; `items()` lists the kept ones
 * oldest first. Invariant: items().length <= capacity; `dropped` counts what was pushed out.
 */
export class HistoryRing<T> {
  private readonly buf: T[] = [];
  /** Index in `buf` of the oldest item once the ring is full. */
  private start = 0;
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
  }

  push(item: T): void {
    if (this.buf.length < this.capacity) {
      this.buf.push(item);
      return;
    }
    this.buf[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    this.droppedCount++;
  }

  /** The newest item, or undefined when empty. */
  last(): T | undefined {
    if (this.buf.length === 0) return undefined;
    return this.buf[(this.start + this.buf.length - 1) % this.buf.length];
  }

  items(): T[] {
    return [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)];
  }

  get size(): number {
    return this.buf.length;
  }

  /** How many items were dropped to make room since the ring was made. */
  get dropped(): number {
    return this.droppedCount;
  }
}

/** One change of this node's role, term or leader, as the node reported it. */
export interface StateEvent {
  /** Wall-clock time (ms since the epoch) the server saw the change. */
  readonly at: number;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId | null;
}

/** One change of the membership this node follows (appended, committed, truncated, snapshotted). */
export interface MembershipEvent {
  readonly at: number;
  /** Index of the configuration entry (0: the bootstrap configuration). */
  readonly index: number;
  readonly committed: boolean;
  readonly voters: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** The events a dashboard history listens to (RaftNode emits them). */
type HistoryNode = Pick<RaftNode<unknown>, 'on' | 'status' | 'membership'>;

/**
 * Records the node's stateChange and membership events with timestamps. The first item of each
 * ring is the state at construction (before any event), so the timeline has a start.
 */
export class ClusterHistory {
  readonly states: HistoryRing<StateEvent>;
  readonly memberships: HistoryRing<MembershipEvent>;

  constructor(node: HistoryNode, opts: { capacity?: number; now?: () => number } = {}) {
    const now = opts.now ?? Date.now;
    this.states = new HistoryRing(opts.capacity ?? 256);
    this.memberships = new HistoryRing(opts.capacity ?? 256);
    const st = node.status();
    this.states.push({ at: now(), role: st.role, term: st.term, leader: st.leader });
    this.memberships.push(membershipEvent(now(), node.membership()));
    node.on('stateChange', (s) => {
      const prev = this.states.last();
      if (prev && prev.role === s.role && prev.term === s.term && prev.leader === s.leader) return;
      this.states.push({ at: now(), role: s.role, term: s.term, leader: s.leader });
    });
    node.on('membership', (m) => {
      const e = membershipEvent(now(), m);
      const prev = this.memberships.last();
      if (prev && sameMembership(prev, e)) return;
      this.memberships.push(e);
    });
  }
}

function membershipEvent(at: number, m: MembershipStatus): MembershipEvent {
  const c = m.config;
  return { at, index: m.index, committed: m.committed, voters: [...c.voters], votersOutgoing: [...c.votersOutgoing], learners: [...c.learners, ...c.learnersNext] };
}

function sameMembership(a: MembershipEvent, b: MembershipEvent): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.index === b.index && a.committed === b.committed && same(a.voters, b.voters) && same(a.votersOutgoing, b.votersOutgoing) && same(a.learners, b.learners);
}
