import type { RocksLevel } from '@nxtedition/rocksdb';
import {
  ErrorCode,
  RaftError,
  type Entry,
  type LogStorage,
  type LogWrite,
  type Snapshot,
  type SnapshotExpectation,
  type SnapshotMeta,
  type SnapshotReader,
  type SnapshotWriter,
  type StoredState,
} from '@raftkit/core';
import { encodeEntry, encodeHardState, freezeMeta } from './codec.js';
import { asRaftError, compacted, unavailable } from './errors.js';
import { LogWriter, type RocksLogStorageStats } from './logWriter.js';
import type { LogView, SaveJob } from './plan.js';
import { collectEntries, entryIterator } from './reader.js';
import { SnapshotDir } from './snapshotFiles.js';
import { FileSnapshotReader } from './snapshotReader.js';
import { SnapshotStore, checkExpectation, checkMeta } from './snapshotStore.js';
import type { FinishedSnapshot } from './snapshotWriter.js';
import { openDb } from './openDb.js';
import { recover } from './recover.js';
import { Watermark, checkAgainst, markOf, readMark } from './watermark.js';
import { TailTerms } from './tailTerms.js';
import { WriteThread, type SyncedWriteTiming } from './writeThread.js';
import { checkIndex, checkRange, checkSnapshot, checkWrite } from '@raftkit/core';

export interface RocksLogStorageOptions {
  /**
   * How many of the last entries have their checksums verified on open (all of them with
   * `Infinity`). Older entries are verified when read. Default 10,000.
   */
  readonly verifyOnOpen?: number;
  /**
   * Upper bound on the bytes of saves grouped into one synced batch. Batches are written by a
   * worker thread, so this bounds the size of one write and of the one buffer handed to it
   * (copied once on the JS thread), not a pause of the JS thread. A single larger save is
   * written alone. Default 1 MiB.
   */
  readonly maxBatchBytes?: number;
  /** Terms of this many most recent entries are kept in memory for `term()`. Default 4,096. */
  readonly termCacheSize?: number;
  /**
   * The durable watermark (see the README) is rewritten at most once per this many ms, so it
   * costs at most one extra fdatasync per interval instead of one per synced batch; it then
   * detects a lost WAL tail older than about this much. 0: after every synced batch. Default 20.
   */
  readonly watermarkIntervalMs?: number;
  /**
   * A watermark record that raises the mark is written without an fdatasync of its own (the page
   * cache keeps it through a crash of the process); the file is fdatasynced at most once per this
   * many ms, so after a crash of the machine it may lag that much more. A record that lowers the
   * mark is always made durable first. 0: an fdatasync with every record. Default 1000.
   */
  readonly watermarkSyncMs?: number;
  /**
   * Called once per synced batch, once it is durable, with how long the write worker took to
   * write and fsync it (`writeMs`, the disk's share) and how long the hand-off to the worker and
   * back took (`handOffMs`), for metrics such as the server's `raftkit_storage_fsync_seconds`.
   * Called on the JS thread; it should be cheap, and what it throws is ignored.
   */
  readonly onSyncedWrite?: (timing: SyncedWriteTiming) => void;
}

/**
 * A durable LogStorage on RocksDB. Each save is made durable by a synced (fsync'd) batch;
 * saves issued while a batch is being written are grouped into the next one. Every stored
 * value carries a CRC-32C, checked on open and on every read.
 */
export class RocksLogStorage implements LogStorage {
  private constructor(
    private readonly db: RocksLevel,
    private readonly thread: WriteThread,
    private readonly writer: LogWriter,
    private readonly terms: TailTerms,
    private readonly snapshots: SnapshotStore,
    /** The directory holding the database. */
    readonly location: string,
  ) {}

  /**
   * Opens (creating if missing) the storage in directory `location`. Rejects with
   * RAFT_STORAGE_VERSION for a newer format; RAFT_STORAGE_CORRUPT if verification fails (a
   * damaged WAL, SST, MANIFEST, missing CURRENT, or a bad checksum in the log); RAFT_STORAGE_LOST
   * if the log is behind the durable watermark (its WAL was truncated or deleted); and
   * RAFT_STORAGE_FAILED if the database cannot be opened (for example, it is open elsewhere) or
   * its write worker cannot start.
   */
  static async open(location: string, options: RocksLogStorageOptions = {}): Promise<RocksLogStorage> {
    checkOptions(options);
    const db = await openDb(location);
    // The worker boots (~20 ms) while the log is recovered on this thread.
    const starting = WriteThread.start(db);
    starting.catch(() => undefined); // awaited below, or stopped on failure
    try {
      const terms = new TailTerms(options.termCacheSize ?? 4096);
      const stored = await readMark(location);
      const view = await recover(db, location, options.verifyOnOpen ?? 10_000, terms);
      if (stored) checkAgainst(location, view, stored.mark);
      const dir = await SnapshotDir.open(location, view.pointer && { file: view.pointer.file, index: view.pointer.meta.index });
      const snapshots = new SnapshotStore(dir);
      const watermark = await Watermark.create(location, markOf(view), stored?.seq ?? 0, options.watermarkIntervalMs ?? 20, options.watermarkSyncMs ?? 1000);
      const thread = await starting;
      const writer = new LogWriter(db, thread, view, terms, options.maxBatchBytes ?? 1024 * 1024, watermark);
      writer.onInstalled = (index, file, replaced) => snapshots.installed(index, file, replaced);
      writer.onSyncedWrite = options.onSyncedWrite ?? null;
      return new RocksLogStorage(db, thread, writer, terms, snapshots, location);
    } catch (error) {
      // The worker shares the native database and holds no reference to it: stop it first.
      await starting.then((thread) => thread.stop(), () => undefined);
      await db.close().catch(() => undefined);
      throw asRaftError(error, `opening ${location}`);
    }
  }

  async state(): Promise<StoredState> {
    return this.writer.atRest((v) => ({
      hardState: v.hardState,
      snapshot: v.snapshot,
      firstIndex: v.firstIndex,
      lastIndex: v.lastIndex,
    }));
  }

  async entries(lo: number, hi: number): Promise<Entry[]> {
    checkRange(lo, hi);
    return this.writer.atRest((view) => {
      checkReadable(view, lo, hi - 1);
      if (lo === hi) return [];
      return collectEntries(entryIterator(this.db, lo, hi), lo, hi);
    });
  }

  async term(index: number): Promise<number> {
    checkIndex('index', index);
    return this.writer.atRest(async (view) => {
      if (index === view.firstIndex - 1) return view.startTerm;
      checkReadable(view, index, index);
      const cached = this.terms.get(index);
      if (cached !== undefined) return cached;
      const [entry] = await collectEntries(entryIterator(this.db, index, index + 1), index, index + 1);
      return entry.term;
    });
  }

  /** The installed snapshot, read whole into memory (the pre-streaming form). */
  async snapshot(): Promise<Snapshot | null> {
    const reader = await this.openSnapshot();
    if (!reader) return null;
    try {
      return { meta: reader.meta, data: await reader.read(0, reader.size) };
    } finally {
      await reader.close();
    }
  }

  async openSnapshot(): Promise<SnapshotReader | null> {
    for (;;) {
      const pointer = await this.writer.atRest((view) => view.pointer);
      if (!pointer) return null;
      try {
        return await FileSnapshotReader.open(this.snapshots.dir.file(pointer.file), pointer);
      } catch (error) {
        // A newer install may have replaced (and deleted) the file meanwhile: read the new one.
        if ((await this.writer.atRest((view) => view.pointer)) === pointer) throw error;
      }
    }
  }

  async createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter> {
    const m = checkMeta(meta);
    const e = expected === undefined ? undefined : checkExpectation(expected);
    await this.writer.atRest(() => undefined); // rejects once closed or failed
    try {
      return await this.snapshots.create(m, e);
    } catch (error) {
      throw asRaftError(error, `creating snapshot ${m.index}`);
    }
  }

  async save(write: LogWrite): Promise<void> {
    checkWrite(write);
    return this.writer.submit({ kind: 'save', save: encodeSave(write) });
  }

  /**
   * `installSnapshot(meta)` installs a finished snapshot (see LogStorage). The pre-streaming
   * `installSnapshot({ meta, data })` writes `data` to a snapshot file, installs it and compacts
   * the log up to it, in call order with every other write.
   */
  async installSnapshot(arg: Snapshot | SnapshotMeta): Promise<void> {
    if (typeof arg === 'object' && arg !== null && 'data' in arg && 'meta' in arg) {
      checkSnapshot(arg);
      const meta = freezeMeta(arg.meta);
      const data = Buffer.from(arg.data); // a copy, taken now
      const prepared = this.writeWhole(meta, data);
      prepared.catch(() => undefined); // settled through the job
      return this.writer.submit({ kind: 'install', install: { meta, prepared, compactAfter: true } });
    }
    const meta = checkMeta(arg as SnapshotMeta);
    const prepared = this.snapshots.find(meta);
    prepared.catch(() => undefined); // settled through the job
    return this.writer.submit({ kind: 'install', install: { meta, prepared, compactAfter: false } });
  }

  private async writeWhole(meta: SnapshotMeta, data: Buffer): Promise<FinishedSnapshot> {
    const writer = await this.snapshots.create(meta);
    try {
      for (let at = 0; at < data.length; at += WHOLE_CHUNK) await writer.write(data.subarray(at, at + WHOLE_CHUNK));
      await writer.finish();
      return writer.result!;
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  async compact(index: number): Promise<void> {
    checkIndex('index', index);
    return this.writer.submit({ kind: 'compact', index });
  }

  /**
   * Waits for queued writes to become durable, stops the write worker, then closes the
   * database. Idempotent.
   */
  async close(): Promise<void> {
    try {
      await this.writer.close();
    } finally {
      // Also when the final watermark write failed. The worker shares the native database,
      // which has no reference count: it must be gone before the database is closed.
      await this.thread.stop();
      await this.db.close();
    }
  }

  /** Write-path counters since open (synced batches, saves, entries, bytes). */
  stats(): RocksLogStorageStats {
    return this.writer.stats();
  }

  /**
   * A RocksDB property of the database, for diagnostics ('' if RocksDB does not know it). For
   * example `rocksdb.dbstats`, whose "WAL: N writes, M syncs" lines show that synced batches
   * really fsync the write-ahead log. Synchronous; throws RAFT_STORAGE_FAILED once closed.
   */
  rocksdbProperty(name: string): string {
    if (typeof name !== 'string') throw new RaftError(ErrorCode.InvalidArgument, `property name must be a string, got ${typeof name}`);
    try {
      return this.db.getProperty(name);
    } catch (error) {
      throw asRaftError(error, `reading property ${name}`);
    }
  }
}

const WHOLE_CHUNK = 1024 * 1024;

/** Validated, encoded (and so copied) form of a save, ready to queue. */
function encodeSave(write: LogWrite): SaveJob {
  const entries = write.entries ?? [];
  const values = entries.map(encodeEntry);
  const hardStateValue = write.hardState && encodeHardState(write.hardState);
  const hs = write.hardState;
  const hardState = hs && Object.freeze({ term: hs.term, vote: hs.vote, commit: hs.commit });
  let bytes = hardStateValue?.length ?? 0;
  for (const v of values) bytes += v.length;
  const sync = write.sync !== false || entries.length > 0;
  return { hardState, hardStateValue, first: entries[0]?.index ?? 0, terms: entries.map((e) => e.term), values, bytes, sync };
}

function checkReadable(view: LogView, lo: number, last: number): void {
  if (lo < view.firstIndex) throw compacted(lo, view.firstIndex);
  if (last > view.lastIndex) throw unavailable(last, view.lastIndex);
}

function checkOptions(options: RocksLogStorageOptions): void {
  for (const name of ['verifyOnOpen', 'maxBatchBytes', 'termCacheSize', 'watermarkIntervalMs', 'watermarkSyncMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && !Number.isNaN(value))) {
      throw new RaftError(ErrorCode.InvalidConfig, `option ${name} must be a number >= 0, got ${String(value)}`);
    }
  }
  if (options.onSyncedWrite !== undefined && typeof options.onSyncedWrite !== 'function') {
    throw new RaftError(ErrorCode.InvalidConfig, `option onSyncedWrite must be a function, got ${typeof options.onSyncedWrite}`);
  }
}
