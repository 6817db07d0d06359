import type { JointConfig } from './membership/joint.js';
import type { NodeId } from './types.js';

/**
 * A leader's lease (thesis §6.4.1). Every heartbeat round is numbered; when a follower
 * acknowledges round c, it has reset its election timer no earlier than when c was sent, and
 * (with check-quorum) will neither campaign nor vote for another candidate for an election
 * timeout after that. So once a majority acknowledged rounds sent from tick s on, no other
 * leader can exist before s + electionTicks — minus a bound on clock drift.
 *
 * Invariant: `ticks` only grows while this node leads; a new leadership starts a new lease.
 */
export class LeaderLease {
  /** Ticks since this node became leader. */
  ticks = 0;
  private readonly sentAt = new Map<number, number>();
  private readonly ackedAt = new Map<NodeId, number>();
  /** Bumped whenever `ackedAt` changes, so `valid` can reuse its last lease start. */
  private acks = 0;
  /** The last lease start computed, and what it was computed from. */
  private memo: { ticks: number; acks: number; quorum: JointConfig; self: NodeId; start: number } | null = null;

  roundSent(context: number): void {
    this.sentAt.set(context, this.ticks);
  }

  acked(from: NodeId, context: number, horizon: number): void {
    const at = this.sentAt.get(context);
    if (at === undefined) return;
    if (at > (this.ackedAt.get(from) ?? -1)) {
      this.ackedAt.set(from, at);
      this.acks++;
    }
    // Rounds older than the horizon can no longer extend a lease.
    for (const [c, t] of this.sentAt) if (t < this.ticks - horizon) this.sentAt.delete(c);
  }

  /** Whether a majority's acknowledgements keep the lease valid now. */
  valid(self: NodeId, quorum: JointConfig, electionTicks: number, driftTicks: number): boolean {
    // The lease runs from the latest time a quorum (of both halves while joint) has acked by:
    // the "committed index" of the ack times.
    // Many reads share one tick: the start is recomputed only when a tick, an ack or the
    // configuration changed since the last call.
    const m = this.memo;
    let start: number;
    if (m !== null && m.ticks === this.ticks && m.acks === this.acks && m.quorum === quorum && m.self === self) start = m.start;
    else {
      start = quorum.committedIndex((v) => (v === self ? this.ticks : (this.ackedAt.get(v) ?? -Infinity)));
      this.memo = { ticks: this.ticks, acks: this.acks, quorum, self, start };
    }
    return this.ticks < start + electionTicks - driftTicks;
  }
}
