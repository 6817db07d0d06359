import {
  ErrorCode,
  RaftError,
  checkEntries,
  checkHardState,
  checkIndex,
  checkRange,
  checkSnapshot,
  checkSnapshotMeta,
  emptyHardState,
  type Entry,
  type HardState,
  type LogWrite,
  type Snapshot,
  type SnapshotExpectation,
  type SnapshotMeta,
  type SnapshotReader,
  type SnapshotWriter,
  type StoredState,
  type ConfState,
} from '@raftkit/core';
import {
  MemorySnapshotReader,
  MemorySnapshotWriter,
  checkExpectation,
  newFile,
  sameExpectation,
  type InstalledSnapshot,
  type SnapshotFile,
} from './memorySnapshots.js';

const invalid = (message: string): RaftError => new RaftError(ErrorCode.InvalidArgument, message);

function copyEntry(e: Entry): Entry {
  return Object.freeze({ index: e.index, term: e.term, type: e.type, data: new Uint8Array(e.data) });
}

function copyMeta(m: SnapshotMeta): SnapshotMeta {
  const base = { index: m.index, term: m.term, voters: Object.freeze([...m.voters]) };
  // The membership in force at the snapshot (plain data: a deep copy through JSON is exact).
  return Object.freeze(m.membership ? { ...base, membership: JSON.parse(JSON.stringify(m.membership)) as ConfState } : base);
}

function checkMeta(meta: SnapshotMeta): void {
  checkSnapshotMeta(meta);
}

function joined(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
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
  /** The installed snapshot. Invariant: its index is in [start, lastIndex]. */
  private snap: InstalledSnapshot | null = null;
  /** Index before the first held entry (0, or a compacted index) and its term. */
  private start = 0;
  private startTerm = 0;
  /** Invariant: log[i].index === start + 1 + i; terms never decrease. */
  private log: Entry[] = [];
  /** Snapshots written (finished or not) but not installed. */
  private readonly files = new Set<SnapshotFile>();
  private opens = 0;

  /** How many handles were opened on this store; only the latest may use it. */
  get openCount(): number {
    return this.opens;
  }

  /** Registers a new handle; handles opened before it become stale. */
  acquire(): number {
    // A restart: local snapshots not installed are gone (as their files would be); received
    // ones stay, to resume or install.
    for (const f of this.files) if (!f.expected) this.files.delete(f);
    return ++this.opens;
  }

  get firstIndex(): number {
    return this.start + 1;
  }

  private get snapIndex(): number {
    return this.snap?.info.meta.index ?? 0;
  }

  get lastIndex(): number {
    return this.firstIndex + this.log.length - 1;
  }

  state(): StoredState {
    return { hardState: this.hard, snapshot: this.snap?.info.meta ?? null, firstIndex: this.firstIndex, lastIndex: this.lastIndex };
  }

  entries(lo: number, hi: number): Entry[] {
    checkRange(lo, hi);
    this.checkReadable(lo, hi - 1);
    return this.log.slice(lo - this.firstIndex, hi - this.firstIndex);
  }

  term(index: number): number {
    checkIndex('index', index);
    if (index === this.start) return this.startTerm;
    this.checkReadable(index, index);
    return this.log[index - this.firstIndex].term;
  }

  /** The installed snapshot, whole (the pre-streaming form). */
  snapshot(): Snapshot | null {
    return this.snap && Object.freeze({ meta: this.snap.info.meta, data: joined(this.snap.chunks, this.snap.info.size) });
  }

  /**
   * Starts writing a snapshot (see `LogStorage.createSnapshot`): a received one (`expected`)
   * resumes a matching one written before, else starts empty and drops other received partials.
   */
  createSnapshot(meta: SnapshotMeta, expected: SnapshotExpectation | undefined, live: () => void): SnapshotWriter {
    checkMeta(meta);
    if (expected !== undefined) checkExpectation(expected);
    let file = expected && [...this.files].find((f) => sameExpectation(f, meta, expected));
    if (!file) {
      if (expected) for (const f of this.files) if (f.expected && !f.info) this.files.delete(f);
      file = newFile(copyMeta(meta), expected ?? null);
      this.files.add(file);
    }
    const files = this.files;
    return new MemorySnapshotWriter({ live, has: (f) => files.has(f), discard: (f) => files.delete(f) }, file);
  }

  openSnapshot(): SnapshotReader | null {
    return this.snap && new MemorySnapshotReader(this.snap);
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

  /**
   * The pre-streaming form: writes `snapshot.data` as a local snapshot, installs it and
   * compacts the log up to it (what installSnapshot did before streaming snapshots).
   */
  installSnapshotData(snapshot: Snapshot): void {
    checkSnapshot(snapshot);
    const file = newFile(copyMeta(snapshot.meta), null);
    const data = new Uint8Array(snapshot.data);
    file.chunks.push(data);
    file.size = data.length;
    file.hash.update(data);
    file.info = Object.freeze({ meta: file.meta, size: file.size, checksum: file.hash.digest('hex') });
    this.files.add(file);
    try {
      this.installSnapshot(snapshot.meta);
    } finally {
      this.files.delete(file);
    }
    this.compact(snapshot.meta.index);
  }

  /**
   * Makes the finished snapshot with `meta`'s index and term the installed one. The log is kept
   * whole if it holds the entry at meta.index with meta.term, else it is replaced by an empty
   * log after meta.index. Every other snapshot at or below meta.index is dropped.
   */
  installSnapshot(meta: SnapshotMeta): void {
    checkMeta(meta);
    const { index, term } = meta;
    if (index < this.snapIndex) throw invalid(`snapshot at ${index} is older than the stored one at ${this.snapIndex}`);
    const file = [...this.files].find((f) => f.info && f.meta.index === index && f.meta.term === term);
    if (!file?.info) throw invalid(`no finished snapshot at index ${index}, term ${term} to install`);
    const agrees = index >= this.start && index <= this.lastIndex && this.term(index) === term;
    if (!agrees && index < this.hard.commit) {
      throw invalid(`snapshot at ${index} (term ${term}) conflicts with the log below commit ${this.hard.commit}`);
    }
    if (!agrees) {
      this.log = [];
      this.start = index;
      this.startTerm = term;
    }
    this.snap = Object.freeze({ info: Object.freeze({ ...file.info, meta: copyMeta(meta) }), chunks: file.chunks });
    for (const f of this.files) if (f.meta.index <= index) this.files.delete(f);
  }

  /** Discards entries up to `index` (at most the snapshot's index); below the log start, nothing. */
  compact(index: number): void {
    checkIndex('index', index);
    if (!this.snap || index > this.snapIndex) {
      throw invalid(`cannot compact to ${index}: the snapshot covers only up to ${this.snapIndex}`);
    }
    if (index > this.lastIndex) throw invalid(`cannot compact to ${index}: past the last index ${this.lastIndex}`);
    if (index <= this.start) return;
    this.startTerm = this.term(index);
    this.log = this.log.slice(index - this.start);
    this.start = index;
  }

  /** Returns the last index after appending `entries`, or throws if they do not fit. */
  private checkAppend(entries: readonly Entry[]): number {
    const first = entries[0].index;
    if (first < this.firstIndex || first <= this.snapIndex) {
      throw invalid(`entry ${first} is covered by the snapshot at ${this.snapIndex}; the log starts at ${this.firstIndex}`);
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
