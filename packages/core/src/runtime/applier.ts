import type { RawNode } from '../consensus/rawNode.js';
import { EntryType, type Entry, type Snapshot } from '../consensus/types.js';
import { ErrorCode, RaftError } from '../errors.js';
import type { LogStorage, StateMachine } from './interfaces.js';
import type { PendingProposals, PendingReads } from './pending.js';
import { snapshotBytes } from './snapshotStore.js';

export interface ApplierDeps<R> {
  readonly raw: RawNode;
  readonly storage: LogStorage;
  readonly stateMachine: StateMachine<R>;
  readonly proposals: PendingProposals<R>;
  readonly reads: PendingReads;
  /** Take a snapshot every this many applied entries (Raft §7). */
  readonly snapshotEvery: number;
}

/**
 * The state machine side of a node: applies committed entries in order, exactly once, settles
 * the proposals and reads waiting for them, restores snapshots and takes them by policy.
 * Invariant: `applied` only grows, by one entry at a time or to a snapshot's index.
 */
export class Applier<R> {
  /** Highest index applied to the state machine. */
  applied: number;
  /** Index of the latest snapshot taken or installed here. */
  private snapshotIndex: number;

  constructor(
    private readonly deps: ApplierDeps<R>,
    applied: number,
  ) {
    this.applied = applied;
    this.snapshotIndex = applied;
  }

  async apply(e: Entry): Promise<void> {
    const { stateMachine, proposals, reads, raw } = this.deps;
    if (e.index !== this.applied + 1) {
      throw new RaftError(ErrorCode.InvariantViolated, `apply of ${e.index} after ${this.applied}`);
    }
    let result: R | undefined;
    if (e.type === EntryType.Normal) {
      result = await stateMachine.apply({ index: e.index, term: e.term, data: e.data });
    } else if (e.type === EntryType.ConfChange && stateMachine.applyMembership) {
      await stateMachine.applyMembership(e.index, raw.confStateAt(e.index));
    }
    this.applied = e.index;
    proposals.applied(e.index, e.term, result as R);
    reads.appliedTo(this.applied);
  }

  /** A snapshot from the leader: persist it, restore the state machine from it. */
  async install(s: Snapshot): Promise<void> {
    await this.deps.storage.installSnapshot(s);
    await this.deps.stateMachine.restore(s.data, s.meta);
    this.applied = s.meta.index;
    this.snapshotIndex = s.meta.index;
    this.deps.proposals.droppedThrough(s.meta.index);
    this.deps.reads.appliedTo(this.applied);
  }

  /** Raft §7: snapshot the state machine and compact the log once it has grown enough. */
  async maybeSnapshot(): Promise<void> {
    const { raw, storage, stateMachine } = this.deps;
    if (this.applied - this.snapshotIndex < this.deps.snapshotEvery) return;
    const index = this.applied;
    const data = await snapshotBytes(await stateMachine.snapshot());
    const membership = raw.confStateAt(index);
    const voters = [...new Set([...membership.config.voters, ...membership.config.votersOutgoing])];
    const snap: Snapshot = { meta: { index, term: raw.term(index), voters, membership }, data };
    await storage.installSnapshot(snap);
    raw.compact(snap);
    this.snapshotIndex = index;
  }
}
