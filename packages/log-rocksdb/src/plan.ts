// Turns queued writes into database operations against the durable view they will follow.
// Pure and synchronous: a write is checked against the state left by every write before it.
import type { HardState, SnapshotMeta } from '@raftkit/core';
import type { RocksBatchOp } from '@nxtedition/rocksdb';
import { encodeVersion, entryKey, formatOfMeta, hardStateKey, snapshotDataKey, snapshotMetaKey, versionKey } from './codec.js';
import { invalid } from './errors.js';

/** What is durable. Invariants: firstIndex = snapshot.index + 1 (or 1); commit <= lastIndex. */
export interface LogView {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta | null;
  readonly firstIndex: number;
  /** firstIndex - 1 when the log is empty. */
  readonly lastIndex: number;
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
  if (count > 0 && job.first < view.firstIndex) {
    throw invalid(`entry ${job.first} is covered by the snapshot; the log starts at ${view.firstIndex}`);
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

export interface SnapshotJob {
  readonly meta: SnapshotMeta;
  readonly metaValue: Buffer;
  readonly data: Buffer;
}

/** Checks that installing `meta` is allowed given whether the log agrees with it. */
export function checkInstall(view: LogView, meta: SnapshotMeta, agrees: boolean): void {
  const snapIndex = view.firstIndex - 1;
  if (meta.index < snapIndex) throw invalid(`snapshot at ${meta.index} is older than the stored one at ${snapIndex}`);
  if (!agrees && meta.index < view.hardState.commit) {
    throw invalid(`snapshot at ${meta.index} (term ${meta.term}) conflicts with the log below commit ${view.hardState.commit}`);
  }
}

/**
 * Operations that install a snapshot, and the view after. Entries after it are kept only if
 * the log agrees with it; entries it covers are left for a later range delete (they are
 * hidden as soon as the snapshot metadata is durable).
 */
export function planInstall(view: LogView, job: SnapshotJob, agrees: boolean, ops: RocksBatchOp[]): LogView {
  const { index } = job.meta;
  ops.push({ type: 'put', key: snapshotMetaKey, value: job.metaValue });
  ops.push({ type: 'put', key: snapshotDataKey, value: job.data });
  // In the same batch: no reader of an older format ever sees metadata it would misread.
  const format = formatOfMeta(job.meta);
  if (format > 1) ops.push({ type: 'put', key: versionKey, value: encodeVersion(format) });
  if (!agrees) deleteEntries(ops, Math.max(view.firstIndex, index + 1), view.lastIndex);
  return {
    ...view,
    snapshot: job.meta,
    firstIndex: index + 1,
    lastIndex: agrees ? view.lastIndex : index,
  };
}
