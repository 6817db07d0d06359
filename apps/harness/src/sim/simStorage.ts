import type { Entry, LogStorage, LogWrite, SnapshotExpectation, SnapshotMeta, SnapshotReader, SnapshotWriter, StoredState } from '@raftkit/core';
import { type MemoryLogStorage, UnsyncedHardState } from '@raftkit/log-memory';
import type { NodeClock } from './nodeClock.js';

/** What the safety checker learns from a write the moment it becomes durable. */
export interface DurableWriteObserver {
  /** Must not throw: a throw would fail the node's write instead of reporting the violation. */
  entriesDurableGuarded(node: string, entries: readonly Entry[], termAt: (index: number) => number | undefined): void;
  /** A write left unsynced that a crash could lose and that is more than a commit index. */
  unsafeUnsyncedWrite(node: string, detail: string): void;
}

/**
 * A node's disk in the simulation: a MemoryLogStorage whose writes become durable after a
 * (virtual) delay, in order. When the node crashes its clock dies, so writes still waiting
 * never happen, exactly what a crash before fsync loses.
 *
 * A write with `sync: false` is not fsync'd: it waits in the page cache until the next synced
 * write, whose fsync of the sequential log (RocksDB's WAL) makes it durable too. A crash
 * before that keeps it or loses it at random (`crash`). Only such a trailing unsynced write is
 * ever at risk, never one that a later synced write covered.
 */
export class SimStorage implements LogStorage {
  private chain: Promise<void> = Promise.resolve();
  /** The latest unsynced hard state (a commit index), not yet on disk. */
  private readonly unsynced: UnsyncedHardState;
  private crashed = false;

  constructor(
    private readonly node: string,
    private readonly inner: MemoryLogStorage,
    private readonly clock: NodeClock,
    private readonly delayMs: () => number,
    private readonly observer: DurableWriteObserver,
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
  openSnapshot(): Promise<SnapshotReader | null> {
    return this.inner.openSnapshot();
  }
  compact(index: number): Promise<void> {
    return this.later(() => this.inner.compact(index));
  }

  /** A snapshot's chunks reach the disk after the delay too, in order with every other write. */
  async createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter> {
    const inner = await this.inner.createSnapshot(meta, expected);
    return {
      meta,
      get written() {
        return inner.written;
      },
      write: (chunk) => this.later(() => inner.write(chunk)),
      finish: () => this.laterValue(() => inner.finish()),
      abort: () => inner.abort(),
    };
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  save(write: LogWrite): Promise<void> {
    return this.later(async () => {
      if (write.sync === false) return this.holdUnsynced(write);
      await this.unsynced.flush();
      await this.inner.save(write);
      if (write.entries && write.entries.length > 0) {
        const store = this.inner.store;
        this.observer.entriesDurableGuarded(this.node, write.entries, (i) => {
          try {
            return store.term(i);
          } catch {
            return undefined; // compacted
          }
        });
      }
    });
  }

  installSnapshot(meta: SnapshotMeta): Promise<void> {
    return this.later(async () => {
      await this.unsynced.flush();
      await this.inner.installSnapshot(meta);
    });
  }

  /**
   * The process died: nothing more is written, and the unsynced write reached the disk
   * only if `survives` (the simulation's seeded coin). Returns whether one was lost.
   */
  crash(survives: boolean): boolean {
    this.crashed = true;
    return this.unsynced.crash(survives);
  }

  /** Whether a write is waiting unsynced (so a crash now has something to lose). */
  hasUnsynced(): boolean {
    return this.unsynced.value !== null;
  }

  /** Only a commit index may go unsynced: a restarted node learns it again (LogWrite.sync). */
  private holdUnsynced(write: LogWrite): void {
    const before = this.unsynced.value ?? this.inner.store.state().hardState;
    const hs = write.hardState;
    if ((write.entries?.length ?? 0) > 0 || (hs && (hs.term !== before.term || hs.vote !== before.vote))) {
      this.observer.unsafeUnsyncedWrite(this.node, `unsynced write ${JSON.stringify({ ...write, entries: write.entries?.length })} after ${JSON.stringify(before)}`);
    }
    if (hs) this.unsynced.hold(hs);
  }

  private later(op: () => Promise<void>): Promise<void> {
    return this.laterValue(op);
  }

  /** Runs `op` after the disk delay, after every earlier write. */
  private laterValue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(
      () =>
        new Promise<T>((resolve, reject) => {
          const ms = this.delayMs();
          // After a crash nothing is written any more: the write stays pending forever.
          const go = () => (this.crashed ? undefined : op().then(resolve, reject));
          if (ms <= 0) go();
          else this.clock.setTimeout(go, ms);
        }),
    );
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
