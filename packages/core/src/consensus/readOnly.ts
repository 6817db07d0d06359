import type { JointConfig } from './membership/joint.js';
import type { NodeId } from './types.js';

/** The answer to a ReadIndex request: serve the read once applied >= index; index 0 = failed. */
export interface ReadState {
  readonly requestId: string;
  readonly index: number;
}

interface PendingRead {
  readonly requestId: string;
  /** Node that asked (this leader or a follower that forwarded a client's read). */
  readonly origin: NodeId;
  readonly index: number;
  /** Heartbeat round that confirms leadership for this read. */
  readonly context: number;
  readonly acks: Set<NodeId>;
}

/**
 * A leader's pending ReadIndex requests (thesis §6.4). A read is safe at the commit index the
 * leader had when the request arrived, once a majority acknowledges a heartbeat sent after it:
 * then no newer leader can have committed anything the read would miss.
 */
export class ReadOnly {
  private seq = 0;
  private pending: PendingRead[] = [];
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

  /** Numbers a new heartbeat round. */
  nextRound(): number {
    return ++this.seq;
  }

  /** Registers a read at `index`; returns the heartbeat round that confirms it. */
  add(requestId: string, origin: NodeId, index: number, self: NodeId): number {
    const context = this.nextRound();
    this.pending.push({ requestId, origin, index, context, acks: new Set([self]) });
    return context;
  }

  /** `from` acknowledged heartbeat `context`; returns the reads `quorum` now confirms. */
  ack(from: NodeId, context: number, quorum: JointConfig): PendingRead[] {
    for (const p of this.pending) if (p.context <= context) p.acks.add(from);
    // Acks of a later round cover earlier reads, so confirmed reads form a prefix.
    let n = 0;
    while (n < this.pending.length && quorum.isQuorum(this.pending[n]!.acks)) n++;
    return this.pending.splice(0, n);
  }

  /** Drops everything (leadership lost); returns what was pending so callers can be told. */
  clear(): { requestId: string; origin: NodeId }[] {
    const all = [...this.pending, ...this.waiting];
    this.pending = [];
    this.waiting = [];
    return all;
  }
}
