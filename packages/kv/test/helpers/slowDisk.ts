import {
  ErrorCode,
  RaftError,
  type Entry,
  type LogStorage,
  type LogWrite,
  type SnapshotExpectation,
  type SnapshotMeta,
  type SnapshotReader,
  type SnapshotWriter,
  type StoredState,
} from '@raftkit/core';
import { type MemoryLogStorage, UnsyncedHardState } from '@raftkit/log-memory';
import type { VirtualClock } from './virtualClock.js';

/**
 * A MemoryLogStorage behind a disk that takes (virtual) time to write, so a crash can land
 * in the middle of a write: what was not yet written is lost, as on a real machine. Reads
 * are immediate. Writes take effect and resolve in call order (RaftNode keeps several in
 * flight): each waits for the one before it, then for its own delay.
 *
 * A `sync: false` write (a commit index) is not fsync'd: it waits in the page cache until the
 * next synced write, whose fsync of the sequential log makes it durable too. A crash before
 * that keeps it or loses it at random (`crash`).
 */
export class SlowDisk implements LogStorage {
  /** Set by a crash: writes still in progress are dropped, never persisted. */
  private crashed = false;
  /** The latest unsynced hard state, not yet on disk. */
  private readonly unsynced: UnsyncedHardState;

  constructor(
    private readonly inner: MemoryLogStorage,
    private readonly clock: VirtualClock,
    private readonly writeMs: () => number,
  ) {
    this.unsynced = new UnsyncedHardState(inner);
  }

  state(): Promise<StoredState> {
    return this.inner.state();
  }

  entries(lo: number, hi: number): Promise<Entry[]> {
    return this.inner.entries(lo, hi);
  }

  term(index: number): Promise<number> {
    return this.inner.term(index);
  }

  /** Snapshot bytes go straight to the inner storage; only the install that switches to them is slow. */
  createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter> {
    return this.inner.createSnapshot(meta, expected);
  }

  openSnapshot(): Promise<SnapshotReader | null> {
    return this.inner.openSnapshot();
  }

  save(write: LogWrite): Promise<void> {
    return this.inOrder(async () => {
      if (write.sync === false && (write.entries?.length ?? 0) === 0) {
        if (write.hardState) this.unsynced.hold(write.hardState);
        return;
      }
      await this.unsynced.flush();
      await this.inner.save(write);
    });
  }

  installSnapshot(meta: SnapshotMeta): Promise<void> {
    return this.inOrder(async () => {
      await this.unsynced.flush();
      await this.inner.installSnapshot(meta);
    });
  }

  private tail: Promise<void> = Promise.resolve();

  private inOrder(write: () => Promise<void>): Promise<void> {
    const done = this.tail.then(async () => {
      await this.spin();
      await write();
    });
    this.tail = done.catch(() => undefined);
    return done;
  }

  /**
   * The machine crashed: writes in progress fail, and the unsynced write reached the disk
   * only if `survives` (the caller's seeded coin). Returns whether one was lost.
   */
  crash(survives: boolean): boolean {
    this.crashed = true;
    return this.unsynced.crash(survives);
  }

  hasUnsynced(): boolean {
    return this.unsynced.value !== null;
  }

  compact(index: number): Promise<void> {
    return this.inner.compact(index);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async spin(): Promise<void> {
    const ms = this.writeMs();
    if (ms > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, ms));
    if (this.crashed) throw new RaftError(ErrorCode.StorageFailed, 'the machine crashed during the write');
  }
}
