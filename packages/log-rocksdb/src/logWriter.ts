// The write path: one ordered queue, group commit, one synced batch per group.
import type { RaftError } from '@raftkit/core';
import type { RocksBatchOp, RocksLevel } from '@nxtedition/rocksdb';
import { entryKey } from './codec.js';
import { asRaftError, failed } from './errors.js';
import type { SnapshotMeta } from '@raftkit/core';
import { checkCompact, checkInstall, planCompact, planInstall, planSave, type LogView, type SaveJob } from './plan.js';
import { collectEntries, entryIterator } from './reader.js';
import type { FinishedSnapshot } from './snapshotWriter.js';
import type { TailTerms } from './tailTerms.js';
import { markOf, type Watermark } from './watermark.js';
import type { SyncedWriteTiming, WriteThread } from './writeThread.js';

export type JobSpec =
  | { readonly kind: 'save'; readonly save: SaveJob }
  | { readonly kind: 'install'; readonly install: InstallJob }
  | { readonly kind: 'compact'; readonly index: number };

/** Installs a finished snapshot file; the pre-streaming form also compacts up to it. */
export interface InstallJob {
  readonly meta: SnapshotMeta;
  /** The file, once written (a pre-streaming install writes it after it was queued). */
  readonly prepared: Promise<FinishedSnapshot>;
  readonly compactAfter: boolean;
}

type Job = JobSpec & { resolve(): void; reject(error: unknown): void };
type SaveQueued = Extract<Job, { kind: 'save' }>;

/** Counters of the write path since open. */
export interface RocksLogStorageStats {
  /** Synced (fsync'd) batches written. */
  readonly syncedBatches: number;
  /** `save` calls made durable. */
  readonly saves: number;
  /** Entries made durable. */
  readonly entries: number;
  /** Encoded entry bytes made durable (payload plus a 21-byte header each). */
  readonly entryBytes: number;
  /** Milliseconds the write worker spent writing and fsyncing the synced batches: the disk's share. */
  readonly syncedWriteMs: number;
  /**
   * Milliseconds the synced batches spent outside the worker's write: the hand-off to the worker
   * and back (thread wake-ups, each event loop's turn). With `syncedWriteMs`, their total.
   */
  readonly handOffMs: number;
  /** Records written to the durable watermark file (RAFTKIT-WATERMARK), and fdatasyncs of it. */
  readonly watermarkWrites: number;
  readonly watermarkSyncs: number;
}

const noop = (): void => undefined;

/**
 * Applies writes in call order. Saves queued while the previous batch was being written join
 * the next batch (group commit), up to `maxBatchBytes`; snapshot installs and compactions run
 * alone. Each write is checked against the state left by all writes before it. Batches are
 * written by the write worker (writeThread.ts), one at a time; reads stay on this thread.
 */
export class LogWriter {
  /** What is durable. Updated in the same synchronous step as the batch write completes. */
  private view: LogView;
  private readonly queue: Job[] = [];
  private draining: Promise<void> | null = null;
  /**
   * Set while a batch that changes keys a reader of `view` may read (entries up to
   * view.lastIndex, the snapshot) is written but its completion not yet applied to `view`.
   */
  private writing: Promise<unknown> | null = null;
  private failure: RaftError | null = null;
  private stopped = false;
  private closing: Promise<void> | null = null;
  private readonly counts = { syncedBatches: 0, saves: 0, entries: 0, entryBytes: 0, syncedWriteMs: 0, handOffMs: 0 };
  /** Told of each synced batch once it is durable (RocksLogStorageOptions.onSyncedWrite). */
  onSyncedWrite: ((timing: SyncedWriteTiming) => void) | null = null;
  /**
   * Called once an install is durable: deletes the replaced snapshot's file (`replaced`) and
   * every other snapshot file at or below `index` except `installed`.
   */
  onInstalled: (index: number, installed: string, replaced: string | null) => Promise<void> = async () => undefined;

  constructor(
    private readonly db: RocksLevel,
    private readonly thread: WriteThread,
    view: LogView,
    private readonly terms: TailTerms,
    private readonly maxBatchBytes: number,
    private readonly watermark: Watermark,
  ) {
    this.view = view;
    watermark.onError = (error) => this.fail(failed('could not write the durable watermark', error));
    thread.onFailure = (error) => this.fail(error);
  }

  stats(): RocksLogStorageStats {
    const mark = this.watermark.stats();
    return { ...this.counts, watermarkWrites: mark.writes, watermarkSyncs: mark.syncs };
  }

  submit(spec: JobSpec): Promise<void> {
    this.check();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...spec, resolve, reject });
      // Waiting one macrotask lets every save issued meanwhile join the same batch.
      this.draining ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
    });
  }

  /**
   * Runs `read` against the durable view once no batch is half-applied. `read` must take its
   * database snapshot (create its iterator) synchronously, before its first await.
   */
  async atRest<T>(read: (view: LogView) => T | Promise<T>): Promise<T> {
    while (this.writing) await this.writing.then(noop, noop);
    this.check();
    return read(this.view);
  }

  /** Stops accepting calls and waits until everything queued is written. */
  close(): Promise<void> {
    this.stopped = true;
    this.closing ??= (async () => {
      while (this.draining) await this.draining;
      // The exact final state, so any later loss of the WAL's tail is seen on the next open.
      await this.watermark.close(this.failure ? null : markOf(this.view));
    })();
    return this.closing;
  }

  private check(): void {
    if (this.failure) throw failed('stopped after an earlier failure', this.failure);
    if (this.stopped) throw failed('is closed');
  }

  private fail(error: unknown): void {
    this.failure ??= asRaftError(error, 'writing');
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.failure) {
        for (const job of this.queue.splice(0)) job.reject(failed('stopped after an earlier failure', this.failure));
        break;
      }
      try {
        const head = this.queue[0];
        if (head.kind === 'save') await this.commitSaves(this.takeSaves());
        else await this.runAlone(this.queue.shift() as typeof head);
      } catch (error) {
        this.fail(error); // not expected: every job settles itself; stop rather than guess
      }
    }
    this.draining = null;
  }

  private takeSaves(): SaveQueued[] {
    const group: SaveQueued[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && this.queue[0].kind === 'save') {
      const job = this.queue[0] as SaveQueued;
      if (group.length > 0 && bytes + job.save.bytes > this.maxBatchBytes) break;
      group.push(this.queue.shift() as SaveQueued);
      bytes += job.save.bytes;
    }
    return group;
  }

  private async commitSaves(group: SaveQueued[]): Promise<void> {
    const ops: RocksBatchOp[] = [];
    const accepted: SaveQueued[] = [];
    const refused = new Map<SaveQueued, unknown>();
    let next = this.view;
    for (const job of group) {
      try {
        next = planSave(next, job.save, ops);
        accepted.push(job);
      } catch (error) {
        refused.set(job, error); // invalid argument: this save only
      }
    }
    const apply = (): void => this.applySaves(next, accepted);
    // One fsync covers the group; a group of commit-only updates needs none.
    const sync = accepted.some((job) => job.save.sync);
    // Appends past the durable last index (and hard-state puts) change no key a reader of the
    // current view reads, so reads need not wait for them; a rewrite or truncation does.
    const last = this.view.lastIndex;
    const rewrites = accepted.some((job) => job.save.values.length > 0 && job.save.first <= last);
    const ok = ops.length === 0 ? (apply(), true) : await this.lowerThenWrite(next, ops, apply, sync, rewrites);
    // Every save settles in call order, an invalid one too: a caller awaiting an earlier save
    // before it looks at a later one never finds that one rejected long before (unhandled).
    for (const job of group) {
      if (refused.has(job)) job.reject(refused.get(job));
      else if (ok) job.resolve();
      else job.reject(failed('could not make the write durable', this.failure));
    }
  }

  private applySaves(next: LogView, saves: readonly SaveQueued[]): void {
    this.view = next;
    for (const { save } of saves) {
      if (save.values.length > 0) this.terms.append(save.first, save.terms);
      this.counts.saves++;
      this.counts.entries += save.values.length;
      for (const value of save.values) this.counts.entryBytes += value.length;
    }
  }

  private async runAlone(job: Exclude<Job, SaveQueued>): Promise<void> {
    try {
      if (job.kind === 'compact') await this.compact(job.index);
      else await this.install(job.install);
      job.resolve();
    } catch (error) {
      const err = asRaftError(error, `running ${job.kind}`);
      if (err.fatal) this.fail(err);
      job.reject(err);
    }
  }

  /** Moves the log start up to `index` (compact, changed with streaming snapshots: the trailing log). */
  private async compact(index: number): Promise<void> {
    if (!checkCompact(this.view, index)) return;
    const term = await this.termAt(this.view, index);
    const ops: RocksBatchOp[] = [];
    const next = planCompact(this.view, index, term, ops);
    const ok = await this.lowerThenWrite(next, ops, () => {
      this.view = next;
      this.terms.dropBefore(index + 1);
    });
    if (!ok) throw failed('could not make the compaction durable', this.failure);
    // Only reclaims space: the log start already hides them, and open() repeats this delete.
    // On the worker: the binding runs a range delete synchronously, through RocksDB's write path.
    await this.thread.clear(entryKey(0), entryKey(index + 1)).catch(noop);
  }

  private async install(job: InstallJob): Promise<void> {
    const done = await job.prepared;
    const view = this.view;
    const { meta } = job;
    const agrees = await this.agrees(view, meta);
    checkInstall(view, meta, agrees);
    const ops: RocksBatchOp[] = [];
    const pointer = { meta, file: done.file, size: done.info.size, checksum: done.info.checksum };
    const next = planInstall(view, pointer, agrees, ops);
    const ok = await this.lowerThenWrite(next, ops, () => {
      this.view = next;
      if (!agrees) this.terms.reset(meta.index + 1);
    });
    if (!ok) throw failed('could not make the snapshot durable', this.failure);
    // Only once the pointer to the new file is durable; a failure leaves orphans open() deletes.
    await this.onInstalled(meta.index, done.file, view.pointer?.file ?? null).catch(noop);
    if (!agrees) await this.thread.clear(entryKey(0), entryKey(meta.index + 1)).catch(noop);
    if (job.compactAfter) await this.compact(meta.index);
  }

  /** Whether the log holds the snapshot's last entry with the snapshot's term. */
  private async agrees(view: LogView, meta: SnapshotMeta): Promise<boolean> {
    const { index, term } = meta;
    if (index < view.firstIndex - 1 || index > view.lastIndex) return false;
    return (await this.termAt(view, index)) === term;
  }

  /** Term of the entry at `index`, which must be held or be the log start. */
  private async termAt(view: LogView, index: number): Promise<number> {
    if (index === view.firstIndex - 1) return view.startTerm;
    const cached = this.terms.get(index);
    if (cached !== undefined) return cached;
    const [entry] = await collectEntries(entryIterator(this.db, index, index + 1), index, index + 1);
    return entry.term;
  }

  /**
   * Writes a batch leaving the log as `next`. If that shortens the log below what the watermark
   * may hold (conflict truncation, a disagreeing snapshot), the watermark is lowered durably
   * first, so it is never ahead of the durable log (see watermark.ts).
   */
  private async lowerThenWrite(next: LogView, ops: RocksBatchOp[], onDurable: () => void, sync = true, rewrites = true): Promise<boolean> {
    if (this.watermark.needsLowering(next.lastIndex)) {
      try {
        const commit = Math.min(this.view.hardState.commit, next.hardState.commit);
        await this.watermark.lower({ ...markOf(this.view), lastIndex: next.lastIndex, commit });
      } catch (error) {
        this.fail(failed('could not lower the durable watermark', error));
        return false;
      }
    }
    return this.write(ops, onDurable, sync, rewrites);
  }

  private noteTiming(timing: SyncedWriteTiming): void {
    this.counts.syncedWriteMs += timing.writeMs;
    this.counts.handOffMs += timing.handOffMs;
    try {
      this.onSyncedWrite?.(timing);
    } catch {
      // An observer's failure is its own: the batch is durable, and the write path goes on.
    }
  }

  /**
   * Writes one batch on the worker (synced unless told otherwise); on success runs `onDurable`
   * in the same synchronous step as the batch's completion is seen. If it `rewrites` what
   * readers of the view may read, they wait for it.
   */
  private async write(ops: RocksBatchOp[], onDurable: () => void, sync: boolean, rewrites: boolean): Promise<boolean> {
    try {
      const written = this.thread.write(ops, sync);
      if (rewrites) this.writing = written;
      const timing = await written;
      onDurable();
      // Only a synced batch is durable, and with it every batch before it.
      if (sync) {
        this.counts.syncedBatches++;
        this.watermark.note(markOf(this.view));
        this.noteTiming(timing);
      }
      return true;
    } catch (error) {
      this.fail(failed('could not write a synced batch', error));
      return false;
    } finally {
      this.writing = null;
    }
  }
}
