import type { RaftConfig } from '../consensus/config.js';
import type { MembershipStatus, NodeStatus } from '../consensus/rawNode.js';
import type { NodeId, SoftState } from '../consensus/types.js';
import type { RaftError } from '../errors.js';
import type { Clock } from './clock.js';
import type { LogStorage, StateMachine, Transport } from './interfaces.js';
import type { SnapshotOptions } from './snapshots.js';
import type { SnapshotTaken } from './snapshotter.js';

export interface RaftNodeOptions<R> extends Omit<RaftConfig, 'random'> {
  storage: LogStorage;
  transport: Transport;
  stateMachine: StateMachine<R>;
  /** Milliseconds per tick. Default 50 (election timeout 500-1000 ms with electionTicks 10). */
  tickMs?: number;
  /** Default deadline of `propose` and `readIndex`. Default 5000 ms. */
  requestTimeoutMs?: number;
  /** Take a snapshot after this many applied entries. Default 10000. Same as `snapshots.everyEntries`. */
  snapshotEvery?: number;
  /** When to take snapshots, how much log to keep below them, how to stream them to followers. */
  snapshots?: SnapshotOptions;
  /** Randomness for election timeouts. Default Math.random. */
  random?: () => number;
  /** Time source. Default real timers. */
  clock?: Clock;
  /**
   * A learner is promoted to voter only once it is at most this many entries behind the
   * leader (else RAFT_LEARNER_BEHIND). Default 1000.
   */
  maxLearnerLag?: number;
  /** Default deadline of membership changes (including a learner's catch-up). Default 30000 ms. */
  membershipTimeoutMs?: number;
  /**
   * Leader: how long an AppendEntries that carries nothing but a new commit index may wait to
   * ride with the next entries instead (CommitCoalescer). Followers learn of a commit at most
   * this much later. Default 2 ms; 0 sends it at once.
   */
  commitCoalesceMs?: number;
}

export interface RaftNodeStatus extends NodeStatus {
  /** False once the node stopped (after `stop()` or a fatal error). */
  readonly running: boolean;
}

export interface RaftNodeEvents {
  /** Role, term or leader changed. */
  stateChange: [SoftState];
  /** Entries up to `index` were applied. */
  applied: [index: number];
  /** A durable write finished: how many entries and how long it took. */
  persisted: [{ entries: number; ms: number }];
  /** A fatal error stopped the node. */
  error: [RaftError];
  /** A snapshot this node took became its snapshot: its position, size and what it cost. */
  snapshot: [SnapshotTaken];
  /**
   * Leader: a snapshot transfer to `peer` was given up (no answer, refused, unreadable, or its
   * whole checksum kept failing at the follower). It starts again while the follower needs it.
   */
  snapshotTransferFailed: [peer: NodeId, reason: string];
  /** The membership this node follows changed (appended, committed, truncated or snapshotted). */
  membership: [MembershipStatus];
}

