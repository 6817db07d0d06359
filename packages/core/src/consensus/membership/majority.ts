import type { NodeId } from '../types.js';

/** Outcome of counting votes: decided either way, or still waiting for votes. */
export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * Reads the highest log index a voter is known to hold (its match index). `undefined` means
 * nothing is known about that voter yet, which counts as index 0: it acknowledged nothing.
 */
export type AckedIndexFn = (id: NodeId) => number | undefined;

/**
 * A plain majority quorum over one set of voters (Raft §5.2 elections, §5.3 commitment).
 *
 * Convention for the empty set: it is vacuously satisfied. `committedIndex()` returns
 * `Infinity` and `voteResult()` returns `'won'`. This is what lets a {@link JointConfig} take
 * the minimum / conjunction of its two halves when it is not joint (the outgoing half is
 * empty) without a special case. A caller that needs a real index from a single, possibly
 * empty, majority must handle `Infinity` itself; `JointConfig` maps "both halves empty" to 0.
 *
 * Invariant: the voter set never changes after construction (a new configuration is a new
 * object), so callers may cache it.
 */
export class MajorityConfig {
  /** Invariant: no duplicates, no empty ids. */
  readonly ids: ReadonlySet<NodeId>;

  constructor(ids: Iterable<NodeId> = []) {
    this.ids = new Set(ids);
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: NodeId): boolean {
    return this.ids.has(id);
  }

  /** Votes needed to win: more than half. Never 0 for a non-empty set. */
  quorum(): number {
    return Math.floor(this.ids.size / 2) + 1;
  }

  /**
   * The largest index acknowledged by a majority: the quorum-th highest acked index.
   *
   * Correctness: every index <= the result is held by at least `quorum()` voters, and the
   * result+1 is not, so any future majority (election, Raft §5.4.1) intersects a holder of it.
   * A voter without an ack counts as 0, never as "up to date".
   */
  committedIndex(acked: AckedIndexFn): number {
    if (this.ids.size === 0) return Number.POSITIVE_INFINITY;
    const indexes: number[] = [];
    for (const id of this.ids) indexes.push(acked(id) ?? 0);
    indexes.sort((a, b) => b - a);
    return indexes[this.quorum() - 1] as number;
  }

  /**
   * Counts votes of this set's voters only (votes from non-members are ignored).
   *
   * Correctness: 'won' once a majority granted; 'lost' once so many rejected that the
   * outstanding votes could not make a majority any more; otherwise 'pending'. A tie in an
   * even-sized set (half granted, half rejected) is 'lost': half is not a majority.
   */
  voteResult(votes: ReadonlyMap<NodeId, boolean>): VoteResult {
    if (this.ids.size === 0) return 'won';
    let granted = 0;
    let missing = 0;
    for (const id of this.ids) {
      const v = votes.get(id);
      if (v === true) granted++;
      else if (v === undefined) missing++;
    }
    const q = this.quorum();
    if (granted >= q) return 'won';
    if (granted + missing >= q) return 'pending';
    return 'lost';
  }

  /** Whether `ids` hold a majority of this set (the empty set: vacuously yes). No allocation: hot path. */
  isQuorum(ids: ReadonlySet<NodeId>): boolean {
    if (this.ids.size === 0) return true;
    let n = 0;
    for (const id of this.ids) if (ids.has(id)) n++;
    return n >= this.quorum();
  }

  /** Stable, sorted rendering, e.g. `(a b c)`. */
  describe(): string {
    return `(${[...this.ids].sort().join(' ')})`;
  }
}
