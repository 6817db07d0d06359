import type { NodeId } from '../types.js';
import { type AckedIndexFn, MajorityConfig, type VoteResult } from './majority.js';

/**
 * The quorum of a possibly joint configuration C_old,new (Raft thesis §4.3, paper §6): a
 * decision needs a majority of the incoming voters AND a majority of the outgoing voters.
 * Outside a configuration change the outgoing half is empty and, being vacuously satisfied
 * (see {@link MajorityConfig}), drops out: the joint quorum is then the plain majority of the
 * incoming voters.
 *
 * Invariant: the two halves never change after construction.
 */
export class JointConfig {
  readonly incoming: MajorityConfig;
  /** Empty when not in a joint configuration. */
  readonly outgoing: MajorityConfig;

  constructor(incoming: Iterable<NodeId> | MajorityConfig, outgoing: Iterable<NodeId> | MajorityConfig = []) {
    this.incoming = incoming instanceof MajorityConfig ? incoming : new MajorityConfig(incoming);
    this.outgoing = outgoing instanceof MajorityConfig ? outgoing : new MajorityConfig(outgoing);
  }

  isJoint(): boolean {
    return this.outgoing.size > 0;
  }

  /** Every voter of either half, each once. */
  ids(): Set<NodeId> {
    return new Set([...this.incoming.ids, ...this.outgoing.ids]);
  }

  /**
   * The largest index acknowledged by a majority of both halves: the minimum of the two.
   *
   * Correctness (thesis §4.3): an entry counts as committed in C_old,new only once both the
   * old and the new voters hold it on a majority, so whichever configuration elects the next
   * leader, that leader has it. With both halves empty nothing is committed: 0, never Infinity.
   */
  committedIndex(acked: AckedIndexFn): number {
    const index = Math.min(this.incoming.committedIndex(acked), this.outgoing.committedIndex(acked));
    return index === Number.POSITIVE_INFINITY ? 0 : index;
  }

  /**
   * 'won' only if both halves won, 'lost' as soon as either half lost, else 'pending'.
   * With both halves empty (no voters known at all) the result is 'lost': nobody may become
   * leader of an empty configuration.
   *
   * Correctness (thesis §4.3): a candidate in C_old,new needs both majorities, so neither
   * the old nor the new voters can elect a second leader for the same term on their own.
   */
  voteResult(votes: ReadonlyMap<NodeId, boolean>): VoteResult {
    if (this.incoming.size === 0 && this.outgoing.size === 0) return 'lost';
    const a = this.incoming.voteResult(votes);
    const b = this.outgoing.voteResult(votes);
    if (a === 'lost' || b === 'lost') return 'lost';
    if (a === 'won' && b === 'won') return 'won';
    return 'pending';
  }

  /** Whether `ids` are a quorum: a majority of both halves (never of two empty halves). */
  isQuorum(ids: ReadonlySet<NodeId>): boolean {
    if (this.incoming.size === 0 && this.outgoing.size === 0) return false;
    return this.incoming.isQuorum(ids) && this.outgoing.isQuorum(ids);
  }

  /** Stable rendering: `(a b c)` or `(a b d)&&(a b c)` when joint (incoming first). */
  describe(): string {
    return this.isJoint() ? `${this.incoming.describe()}&&${this.outgoing.describe()}` : this.incoming.describe();
  }
}
