import {
  ErrorCode,
  RaftError,
  checkEntries,
  checkHardState,
  checkIndex,
  checkRange,
  checkSnapshot,
  emptyHardState,
  type Entry,
  type HardState,
  type LogWrite,
  type Snapshot,
  type StoredState,
  type ConfState,
} from '@raftkit/core';

const invalid = (message: string): RaftError => new RaftError(ErrorCode.InvalidArgument, message);

function copyEntry(e: Entry): Entry {
  return Object.freeze({ index: e.index, term: e.term, type: e.type, data: new Uint8Array(e.data) });
}

function copySnapshot(s: Snapshot): Snapshot {
  const base = { index: s.meta.index, term: s.meta.term, voters: Object.freeze([...s.meta.voters]) };
  // The membership in force at the snapshot (plain data: a deep copy through JSON is exact).
  const meta = Object.freeze(s.meta.membership ? { ...base, membership: JSON.parse(JSON.stringify(s.meta.membership)) as ConfState } : base);
  return Object.freeze({ meta, data: new Uint8Array(s.data) });
}

/**
 * The "disk" of a MemoryLogStorage: everything that was saved, held synchronously. It outlives
 * the storage handles opened on it, so a simulated crash and restart keeps exactly what was
 * saved. Its methods are synchronous and throw RaftErrors; simulators may call the read methods
 * directly to check invariants without awaiting.
 *
 * Returned entries and snapshots are shared, frozen objects: treat their bytes as read-only.
 */
export class MemoryLogStore {
  /** Invariant: commit <= lastIndex. */
  private hard: HardState = emptyHardState;
  private snap: Snapshot | null = null;
  /** Invariant: log[i].index === firstIndex + i; terms never decrease. */
  private log: Entry[] = [];
  private opens = 0;

  /** How many handles were opened on this store; only the latest may use it. */
  get openCount(): number {
    return this.opens;
  }

  /** Registers a new handle; handles opened before it become stale. */
  acquire(): number {
    return ++this.opens;
  }

  get firstIndex(): number {
    return (this.snap?.meta.index ?? 0) + 1;
  }

  get lastIndex(): number {
    return this.firstIndex + this.log.length - 1;
  }

  state(): StoredState {
    return { hardState: this.hard, snapshot: this.snap?.meta ?? null, firstIndex: this.firstIndex, lastIndex: this.lastIndex };
  }

  entries(lo: number, hi: number): Entry[] {
    checkRange(lo, hi);
    this.checkReadable(lo, hi - 1);
    return this.log.slice(lo - this.firstIndex, hi - this.firstIndex);
  }

  term(index: number): number {
    checkIndex('index', index);
    const snapIndex = this.firstIndex - 1;
    if (index === snapIndex) return this.snap?.meta.term ?? 0;
    this.checkReadable(index, index);
    return this.log[index - this.firstIndex].term;
  }

  snapshot(): Snapshot | null {
    return this.snap;
  }

  save(write: LogWrite): void {
    if (typeof write !== 'object' || write === null) throw invalid('write must be an object');
    const { hardState, entries = [] } = write;
    if (hardState !== undefined) checkHardState(hardState);
    checkEntries(entries);
    const newLast = entries.length > 0 ? this.checkAppend(entries) : this.lastIndex;
    const commit = (hardState ?? this.hard).commit;
    if (commit > newLast) throw invalid(`commit ${commit} would exceed the last index ${newLast}`);
    if (entries.length > 0) {
      this.log.length = entries[0].index - this.firstIndex;
      for (const e of entries) this.log.push(copyEntry(e));
    }
    if (hardState !== undefined) {
      this.hard = Object.freeze({ term: hardState.term, vote: hardState.vote, commit: hardState.commit });
    }
  }

  installSnapshot(snapshot: Snapshot): void {
    checkSnapshot(snapshot);
    const { index, term } = snapshot.meta;
    const snapIndex = this.firstIndex - 1;
    if (index < snapIndex) throw invalid(`snapshot at ${index} is older than the stored one at ${snapIndex}`);
    const agrees = index <= this.lastIndex && this.term(index) === term;
    if (!agrees && index < this.hard.commit) {
      throw invalid(`snapshot at ${index} (term ${term}) conflicts with the log below commit ${this.hard.commit}`);
    }
    this.log = agrees ? this.log.slice(index + 1 - this.firstIndex) : [];
    this.snap = copySnapshot(snapshot);
  }

  compact(index: number): void {
    checkIndex('index', index);
    const snapIndex = this.firstIndex - 1;
    if (index > snapIndex) throw invalid(`cannot compact to ${index}: the snapshot covers only up to ${snapIndex}`);
    // installSnapshot already discarded every entry the snapshot covers.
  }

  /** Returns the last index after appending `entries`, or throws if they do not fit. */
  private checkAppend(entries: readonly Entry[]): number {
    const first = entries[0].index;
    if (first < this.firstIndex) {
      throw invalid(`entry ${first} is covered by the snapshot; the log starts at ${this.firstIndex}`);
    }
    if (first > this.lastIndex + 1) {
      throw invalid(`entry ${first} would leave a hole after the last index ${this.lastIndex}`);
    }
    return entries[entries.length - 1].index;
  }

  private checkReadable(lo: number, last: number): void {
    if (lo < this.firstIndex) {
      throw new RaftError(ErrorCode.Compacted, `index ${lo} is compacted; the log starts at ${this.firstIndex}`);
    }
    if (last > this.lastIndex) {
      throw new RaftError(ErrorCode.Unavailable, `index ${last} is past the last index ${this.lastIndex}`);
    }
  }
}
