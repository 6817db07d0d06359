import type { SnapshotMeta } from '../consensus/types.js';

/** A simulated node's state machine: how far it applied, a hash of what, and its membership. */
export interface SimMachine {
  index: number;
  hash: number;
  conf: unknown;
}

/**
 * The simulation's snapshot bytes, by log position. A snapshot message carries only its
 * position (`SnapshotMeta`), as in RaftNode, where the bytes are streamed beside the consensus
 * core; here a follower that installs one reads the state its leader saved at that position.
 * Every node's snapshot at one position must be the same state (state machine safety): a
 * second, different one is reported.
 */
export class SnapshotShelf {
  private readonly states = new Map<string, string>();

  /** Records `sm` as the state at `meta`; returns a description of the conflict, if any. */
  put(meta: SnapshotMeta, sm: SimMachine): string | null {
    const key = `${meta.index}:${meta.term}`;
    const state = JSON.stringify(sm);
    const had = this.states.get(key);
    if (had !== undefined && had !== state) return `two snapshots at index ${meta.index} term ${meta.term} differ: ${had} vs ${state}`;
    this.states.set(key, state);
    return null;
  }

  /** The state saved at `meta` (a copy). */
  get(meta: SnapshotMeta): SimMachine {
    const state = this.states.get(`${meta.index}:${meta.term}`);
    if (state === undefined) throw new Error(`no node saved a snapshot at index ${meta.index} term ${meta.term}`);
    return JSON.parse(state) as SimMachine;
  }
}
