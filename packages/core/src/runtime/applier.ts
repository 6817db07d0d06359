import type { RawNode } from '../consensus/rawNode.js';
import { EntryType, type Entry } from '../consensus/types.js';
import { ErrorCode, RaftError } from '../errors.js';
import type { StateMachine } from './interfaces.js';
import type { PendingProposals, PendingReads } from './pending.js';

export interface ApplierDeps<R> {
  readonly raw: RawNode;
  readonly stateMachine: StateMachine<R>;
  readonly proposals: PendingProposals<R>;
  readonly reads: PendingReads;
  /** An entry of `bytes` was applied (the snapshot policy counts them). */
  noteApplied(bytes: number): void;
}

/**
 * The state machine side of a node: applies committed entries in order, exactly once, settles
 * the proposals and reads waiting for them.
 * Invariant: `applied` only grows, by one entry at a time or to a snapshot's index.
 */
export class Applier<R> {
  /** Highest index applied to the state machine. */
  applied: number;

  constructor(
    private readonly deps: ApplierDeps<R>,
    applied: number,
  ) {
    this.applied = applied;
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
    this.deps.noteApplied(e.data.byteLength);
    proposals.applied(e.index, e.term, result as R);
    reads.appliedTo(this.applied);
  }

  /** The state machine was restored from a snapshot at `index` (a leader's, installed). */
  restored(index: number): void {
    this.applied = index;
    this.deps.proposals.droppedThrough(index);
    this.deps.reads.appliedTo(this.applied);
  }
}
