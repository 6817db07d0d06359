import { ErrorCode, RaftError, invariant } from '../errors.js';
import { decodeConfEntry, snapshotConfState } from './membership/entry.js';
import { EntryType, type ConfState, type Entry, type SnapshotMeta } from './types.js';

const emptySnapshotMeta: SnapshotMeta = Object.freeze({ index: 0, term: 0, voters: [] });

/**
 * A node's view of its log: the latest snapshot, the entries it still holds, and how far the
 * log is durable, committed and applied. Held in memory; the runtime persists what `unstable()`
 * and `pendingSnapshot` say, and reloads it on restart.
 *
 * The log may start below the snapshot (a trailing log): compacting is a separate step from
 * taking a snapshot, so a follower that lags a little catches up from entries, not a snapshot.
 * `offset` is the index just before the first held entry (its term is still known).
 *
 * Invariants: offset <= snapshot.index <= applied <= committed <= lastIndex();
 * offset <= stableIndex <= lastIndex(); entries[i].index === offset + 1 + i;
 * terms never decrease along the log.
 */
export class RaftLog {
  /** The latest snapshot (index 0 when none): what a follower that needs one is sent. */
  snapshot: SnapshotMeta = emptySnapshotMeta;
  /** A snapshot received from a leader that the runtime must install and restore. */
  pendingSnapshot: SnapshotMeta | null = null;
  /** Index just before the first held entry: everything up to it is compacted. */
  private offset = 0;
  /** Term of the entry at `offset` (0 for a never-compacted log). */
  private offsetTerm = 0;
  private entries: Entry[] = [];
  /** The configuration entries among `entries`, in index order, decoded once when appended. */
  private confs: { readonly index: number; readonly state: ConfState }[] = [];
  /** Highest index known durable in storage. */
  stableIndex = 0;
  /**
   * Highest index handed to storage (durable or not yet): with pipelined writes, `unstable()`
   * returns only what follows it. Invariant: inProgress <= lastIndex().
   */
  inProgress = 0;
  /** Highest index known committed. Invariant: never decreases. */
  committed = 0;
  /** Highest index handed to the state machine. Invariant: applied <= committed. */
  applied = 0;

  /**
   * The log a restarted node had: its snapshot (if any), the held entries, which start right
   * after `compacted` (index and term; default: the snapshot's position, or 0), and the commit.
   */
  static restore(entries: readonly Entry[], snapshot: SnapshotMeta | null, commit: number, compacted?: { index: number; term: number }): RaftLog {
    const log = new RaftLog();
    if (snapshot) log.snapshot = snapshot;
    const start = compacted ?? { index: log.snapshot.index, term: log.snapshot.term };
    invariant(start.index <= log.snapshot.index, `log starts after ${start.index}, beyond the snapshot at ${log.snapshot.index}`);
    log.offset = start.index;
    log.offsetTerm = start.term;
    const kept = entries.filter((e) => e.index > start.index);
    kept.forEach((e, i) => invariant(e.index === start.index + 1 + i, `restored log has a hole at ${start.index + 1 + i}`));
    log.append(kept);
    invariant(log.lastIndex() >= log.snapshot.index, `restored log ends at ${log.lastIndex()}, before the snapshot at ${log.snapshot.index}`);
    log.stableIndex = log.lastIndex();
    log.inProgress = log.stableIndex;
    log.committed = Math.min(Math.max(commit, log.snapshot.index), log.lastIndex());
    log.applied = log.snapshot.index;
    return log;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  /** Everything up to this index is compacted (the log holds none of it; its term is known). */
  compactedIndex(): number {
    return this.offset;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term at `index`; 0 if the index is beyond the log; throws RAFT_COMPACTED below the held log. */
  term(index: number): number {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset) {
      throw new RaftError(ErrorCode.Compacted, `index ${index} is compacted (log starts after ${this.offset})`);
    }
    const e = this.entries[index - this.offset - 1];
    return e ? e.term : 0;
  }

  matchTerm(index: number, term: number): boolean {
    if (index < this.offset || index > this.lastIndex()) return false;
    return this.term(index) === term;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up-to-date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Entries with lo <= index < hi, at most `maxBytes` of data (at least one entry). */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] {
    if (lo <= this.offset) {
      throw new RaftError(ErrorCode.Compacted, `index ${lo} is compacted (log starts after ${this.offset})`);
    }
    const off = this.offset + 1;
    const out = this.entries.slice(lo - off, Math.min(hi, this.lastIndex() + 1) - off);
    if (maxBytes === Infinity) return out;
    let bytes = 0;
    for (let i = 0; i < out.length; i++) {
      bytes += out[i]!.data.byteLength;
      if (bytes > maxBytes && i > 0) return out.slice(0, i);
    }
    return out;
  }

  /** First index of the run of entries with `term` that contains `index` (terms are monotonic). */
  firstIndexOfTerm(index: number, term: number): number {
    let lo = Math.max(this.offset + 1, this.committed + 1);
    let hi = index;
    if (lo > hi) return index;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.term(mid) < term) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Last index holding `term`, or 0 if the log has no entry of that term. */
  lastIndexOfTerm(term: number): number {
    let lo = this.offset;
    let hi = this.lastIndex();
    // Find the last index whose term is <= term.
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.term(mid) <= term) lo = mid;
      else hi = mid - 1;
    }
    return lo > this.offset && this.term(lo) === term ? lo : 0;
  }

  /** Appends entries that follow the last index (a leader's own proposals). */
  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      invariant(e.index === this.lastIndex() + 1, `append at ${e.index} leaves a hole after ${this.lastIndex()}`);
      invariant(e.term >= this.lastTerm(), `append of term ${e.term} after term ${this.lastTerm()}`);
      if (e.type === EntryType.ConfChange) this.confs.push({ index: e.index, state: decodeConfEntry(e.data) });
      this.entries.push(e);
    }
  }

  /**
   * Raft §5.3: merges a leader's entries that follow `prevIndex` (already matched). Entries
   * that agree are kept; from the first conflict on, ours are replaced. Returns the last new index.
   */
  merge(prevIndex: number, entries: readonly Entry[]): number {
    let i = 0;
    while (i < entries.length && this.matchTerm(entries[i]!.index, entries[i]!.term)) i++;
    if (i === entries.length) return prevIndex + entries.length;
    const from = entries[i]!.index;
    invariant(from > this.committed, `would overwrite committed entry ${from} (committed ${this.committed})`);
    if (from <= this.lastIndex()) {
      this.entries.length = from - this.offset - 1;
      this.confs = this.confs.filter((c) => c.index < from);
      this.stableIndex = Math.min(this.stableIndex, from - 1);
      this.inProgress = Math.min(this.inProgress, from - 1);
    }
    this.append(entries.slice(i));
    return prevIndex + entries.length;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    invariant(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Entries not yet durable nor handed to storage, which the next Ready hands to storage. */
  unstable(): Entry[] {
    return this.entries.slice(Math.max(this.stableIndex, this.inProgress) - this.offset);
  }

  /** Whether `unstable()` is non-empty (without building it). */
  hasUnstable(): boolean {
    return Math.max(this.stableIndex, this.inProgress) < this.lastIndex();
  }

  /** Marks entries up to `index` durable, if the entry there is still the one of `term`. */
  stableTo(index: number, term: number): void {
    if (index > this.stableIndex && this.matchTerm(index, term)) this.stableIndex = index;
  }

  /** Committed, durable entries not yet handed to the state machine. */
  nextCommitted(maxEntries: number): Entry[] {
    const hi = Math.min(this.committed, this.stableIndex, this.applied + maxEntries);
    if (hi <= this.applied || this.pendingSnapshot) return [];
    return this.slice(this.applied + 1, hi + 1);
  }

  appliedTo(index: number): void {
    invariant(index <= this.committed, `applied ${index} beyond committed ${this.committed}`);
    if (index > this.applied) this.applied = index;
  }

  /** Replaces the whole log with a snapshot from the leader (Raft §7). */
  restoreSnapshot(meta: SnapshotMeta): void {
    invariant(meta.index > this.committed, 'restoring a snapshot behind the commit index');
    this.snapshot = meta;
    this.offset = meta.index;
    this.offsetTerm = meta.term;
    this.entries = [];
    this.confs = [];
    this.committed = meta.index;
    this.stableIndex = meta.index;
    this.inProgress = meta.index;
    this.pendingSnapshot = meta;
  }

  /** The runtime installed and restored the pending snapshot. */
  snapshotApplied(index: number): void {
    if (this.pendingSnapshot?.index !== index) return;
    this.pendingSnapshot = null;
    this.applied = Math.max(this.applied, index);
  }

  /**
   * A snapshot of the state machine at `meta.index` (applied here, so in the log) is durable:
   * it becomes the one sent to followers that need one. Nothing is compacted (see `compact`).
   */
  snapshotTaken(meta: SnapshotMeta): void {
    if (meta.index <= this.snapshot.index) return;
    invariant(meta.index <= this.applied, `snapshot at ${meta.index} beyond applied ${this.applied}`);
    invariant(this.term(meta.index) === meta.term, `snapshot term ${meta.term} does not match the log at ${meta.index}`);
    // The snapshot carries the configuration in force at its index.
    const membership = this.confAt(meta.index);
    this.snapshot = membership ? { ...meta, membership: membership.state } : meta;
  }

  /** Raft §7 log compaction: drops held entries up to `index`, which the snapshot must cover. */
  compact(index: number): void {
    if (index <= this.offset) return;
    invariant(index <= this.snapshot.index, `compacting to ${index} beyond the snapshot at ${this.snapshot.index}`);
    this.offsetTerm = this.term(index);
    this.entries = this.entries.slice(index - this.offset);
    this.offset = index;
    this.confs = this.confs.filter((c) => c.index > index);
  }

  /**
   * The configuration in force at `index` (thesis §4.1: the latest configuration entry at or
   * before it, committed or not) and the index of that entry; null if neither the log nor the
   * snapshot holds one (a brand-new cluster still on its bootstrap configuration).
   */
  confAt(index: number): { index: number; state: ConfState } | null {
    for (let i = this.confs.length - 1; i >= 0; i--) if (this.confs[i]!.index <= index) return this.confs[i]!;
    if (this.snapshot.index === 0 || index < this.snapshot.index) return null;
    return { index: this.snapshot.index, state: snapshotConfState(this.snapshot) };
  }

  /** The latest configuration in the log (see `confAt`). */
  latestConf(): { index: number; state: ConfState } | null {
    return this.confAt(this.lastIndex());
  }
}
