// Turns queued writes into database operations against the durable view they will follow.
// Pure and synchronous: a write is checked against the state left by every write before it.
import type { HardState, SnapshotMeta } from '@raftkit/core';
import type { RocksBatchOp } from '@nxtedition/rocksdb';
import { encodeLogStart, encodePointer, entryKey, hardStateKey, logStartKey, snapshotPointerKey, type SnapshotPointer } from './codec.js';
import { invalid } from './errors.js';

/**
 * What is durable. Invariants: firstIndex - 1 <= snapshot.index <= lastIndex (the log may
 * start below the snapshot: compaction is separate); commit <= lastIndex.
 */
export interface LogView {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta | null;
  /** Where the installed snapshot's bytes are (null with no snapshot). */
  readonly pointer: SnapshotPointer | null;
  readonly firstIndex: number;
  /** Term of the entry at firstIndex - 1 (0 for a log never compacted). */
  readonly startTerm: number;
  /** firstIndex - 1 when the log is empty. */
  readonly lastIndex: number;
}

function snapIndex(view: LogView): number {
  return view.snapshot?.index ?? 0;
}

/** A save, validated and encoded (so copied) when it was called. */
export interface SaveJob {
  readonly hardState?: HardState;
  readonly hardStateValue?: Buffer;
  /** Index of the first entry; 0 when there are none. */
  readonly first: number;
  readonly terms: readonly number[];
  readonly values: readonly Buffer[];
  readonly bytes: number;
  /** False: may ride in an unsynced batch (a commit-index-only update). */
  readonly sync: boolean;
}

/** Appends the operations of `job` to `ops` and returns the view after it; throws if invalid. */
export function planSave(view: LogView, job: SaveJob, ops: RocksBatchOp[]): LogView {
  const count = job.values.length;
  const lastIndex = count > 0 ? job.first + count - 1 : view.lastIndex;
  if (count > 0 && (job.first < view.firstIndex || job.first <= snapIndex(view))) {
    throw invalid(`entry ${job.first} is covered by the snapshot at ${snapIndex(view)}; the log starts at ${view.firstIndex}`);
  }
  if (count > 0 && job.first > view.lastIndex + 1) {
    throw invalid(`entry ${job.first} would leave a hole after the last index ${view.lastIndex}`);
  }
  const hardState = job.hardState ?? view.hardState;
  if (hardState.commit > lastIndex) throw invalid(`commit ${hardState.commit} would exceed the last index ${lastIndex}`);

  for (let k = 0; k < count; k++) ops.push({ type: 'put', key: entryKey(job.first + k), value: job.values[k] });
  // Conflict truncation (Raft §5.3): drop the old suffix beyond the new last entry.
  if (count > 0) deleteEntries(ops, lastIndex + 1, view.lastIndex);
  if (job.hardStateValue) ops.push({ type: 'put', key: hardStateKey, value: job.hardStateValue });
  return { ...view, hardState, lastIndex };
}

/** Appends deletes of entries lo..hi inclusive (none when hi < lo). */
export function deleteEntries(ops: RocksBatchOp[], lo: number, hi: number): void {
  for (let i = lo; i <= hi; i++) ops.push({ type: 'del', key: entryKey(i) });
}

/** Checks that installing `meta` is allowed given whether the log agrees with it. */
export function checkInstall(view: LogView, meta: SnapshotMeta, agrees: boolean): void {
  if (meta.index < snapIndex(view)) throw invalid(`snapshot at ${meta.index} is older than the stored one at ${snapIndex(view)}`);
  if (!agrees && meta.index < view.hardState.commit) {
    throw invalid(`snapshot at ${meta.index} (term ${meta.term}) conflicts with the log below commit ${view.hardState.commit}`);
  }
}

/**
 * Operations that install the snapshot `pointer` names, and the view after. A log that agrees
 * with it (holds its entry) is kept whole; otherwise the log restarts after it: the log start
 * moves to the snapshot and the entries after it are deleted (those at or below it are hidden
 * by the log start and range-deleted later). One batch: the switch is atomic.
 */
export function planInstall(view: LogView, pointer: SnapshotPointer, agrees: boolean, ops: RocksBatchOp[]): LogView {
  const { index, term } = pointer.meta;
  ops.push({ type: 'put', key: snapshotPointerKey, value: encodePointer(pointer) });
  if (agrees) return { ...view, snapshot: pointer.meta, pointer };
  ops.push({ type: 'put', key: logStartKey, value: encodeLogStart({ index, term }) });
  deleteEntries(ops, Math.max(view.firstIndex, index + 1), view.lastIndex);
  return { ...view, snapshot: pointer.meta, pointer, firstIndex: index + 1, startTerm: term, lastIndex: index };
}

/** Checks a compaction to `index`; returns false when there is nothing to do. */
export function checkCompact(view: LogView, index: number): boolean {
  if (!view.snapshot || index > view.snapshot.index) {
    throw invalid(`cannot compact to ${index}: the snapshot covers only up to ${snapIndex(view)}`);
  }
  if (index > view.lastIndex) throw invalid(`cannot compact to ${index}: past the last index ${view.lastIndex}`);
  return index >= view.firstIndex;
}

/** Operations that move the log start to `index` (its entry has `term`), and the view after. */
export function planCompact(view: LogView, index: number, term: number, ops: RocksBatchOp[]): LogView {
  ops.push({ type: 'put', key: logStartKey, value: encodeLogStart({ index, term }) });
  return { ...view, firstIndex: index + 1, startTerm: term };
}
