import type { JointConfig } from './membership/joint.js';
import type { NodeId } from './types.js';

/** The answer to a ReadIndex request: serve the read once applied >= index; index 0 = failed. */
export interface ReadState {
  readonly requestId: string;
  readonly index: number;
}

interface QueuedRead {
  readonly requestId: string;
  /** Node that asked (this leader or a follower that forwarded a client's read). */
  readonly origin: NodeId;
  /** The commit index when the request arrived: the read is served at or after it. */
  readonly index: number;
}

/** A heartbeat round that carries reads: it confirms them once a quorum acknowledges it. */
interface Round {
  readonly context: number;
  readonly acks: Set<NodeId>;
  readonly reads: readonly QueuedRead[];
}

/**
 * A leader's pending ReadIndex requests (thesis §6.4). A read is safe at the commit index the
 * leader had when the request arrived, once a majority acknowledges a heartbeat sent after it:
 * then no newer leader can have committed anything the read would miss.
 *
 * Batched: reads that arrive while a round carrying reads is in flight wait for the next round
 * (one sent after they arrived, as the rule needs), and all of them share it. So concurrent
 * reads cost one round trip each way per peer and round, not per read; any heartbeat round,
 * the periodic ones included, takes every read queued before it.
 */
export class ReadOnly {
  private seq = 0;
  /** Unconfirmed rounds carrying reads, in context order. */
  private rounds: Round[] = [];
  /** Reads that arrived after the latest round was sent. */
  private queued: QueuedRead[] = [];
  /** Requests waiting for the leader to commit an entry of its own term first. */
  private waiting: { requestId: string; origin: NodeId }[] = [];

  /** Queues a request until the leader has committed in its term. */
  wait(requestId: string, origin: NodeId): void {
    this.waiting.push({ requestId, origin });
  }

  takeWaiting(): { requestId: string; origin: NodeId }[] {
    const w = this.waiting;
    this.waiting = [];
    return w;
  }

  /** Queues a read at `index` for the next round. */
  add(requestId: string, origin: NodeId, index: number): void {
    this.queued.push({ requestId, origin, index });
  }

  /** Whether reads wait and no round carrying reads is in flight: send one now. */
  needsRound(): boolean {
    return this.queued.length > 0 && this.rounds.length === 0;
  }

  /** Numbers a new heartbeat round; every read queued so far rides on it. */
  nextRound(self: NodeId): number {
    const context = ++this.seq;
    if (this.queued.length > 0) {
      this.rounds.push({ context, acks: new Set([self]), reads: this.queued });
      this.queued = [];
    }
    return context;
  }

  /** `from` acknowledged heartbeat `context`; returns the reads `quorum` now confirms. */
  ack(from: NodeId, context: number, quorum: JointConfig): QueuedRead[] {
    if (this.rounds.length === 0) return [];
    for (const round of this.rounds) {
      if (round.context > context) break;
      round.acks.add(from);
    }
    // Acks of a later round cover earlier rounds, so confirmed rounds form a prefix.
    let n = 0;
    while (n < this.rounds.length && quorum.isQuorum(this.rounds[n]!.acks)) n++;
    if (n === 0) return [];
    return this.rounds.splice(0, n).flatMap((round) => round.reads);
  }

  /** Drops everything (leadership lost); returns what was pending so callers can be told. */
  clear(): { requestId: string; origin: NodeId }[] {
    const all = [...this.rounds.flatMap((round) => round.reads), ...this.queued, ...this.waiting];
    this.rounds = [];
    this.queued = [];
    this.waiting = [];
    return all;
  }
}
