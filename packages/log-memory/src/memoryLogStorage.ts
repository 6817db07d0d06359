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
import { MemoryLogStore } from './memoryLogStore.js';

/**
 * A LogStorage held in memory, for tests and simulations. Every call takes effect
 * synchronously on its `store` and resolves promptly; "durable" means "in the store".
 *
 * Crash and restart: keep the `store` and open a new MemoryLogStorage on it. The new handle
 * sees exactly what was saved; the old one becomes stale and rejects every further call with
 * RAFT_STORAGE_FAILED, as a crashed process would never write again.
 */
export class MemoryLogStorage implements LogStorage {
  /** The backing store; survives this handle. */
  readonly store: MemoryLogStore;
  private readonly lease: number;
  private closed = false;

  constructor(store: MemoryLogStore = new MemoryLogStore()) {
    this.store = store;
    this.lease = store.acquire();
  }

  /** Opens a handle on `store` (a new, empty store if omitted). */
  static open(store?: MemoryLogStore): MemoryLogStorage {
    return new MemoryLogStorage(store);
  }

  async state(): Promise<StoredState> {
    return this.live().state();
  }

  async entries(lo: number, hi: number): Promise<Entry[]> {
    return this.live().entries(lo, hi);
  }

  async term(index: number): Promise<number> {
    return this.live().term(index);
  }

  async save(write: LogWrite): Promise<void> {
    this.live().save(write);
  }

  /**
   * `installSnapshot(meta)` installs a finished snapshot (see LogStorage); the older
   * `installSnapshot({ meta, data })` writes `data` as a snapshot, installs it and compacts the
   * log up to it, as before streaming snapshots.
   */
  async installSnapshot(snapshot: Snapshot | SnapshotMeta): Promise<void> {
    const store = this.live();
    if (typeof snapshot === 'object' && snapshot !== null && 'data' in snapshot && 'meta' in snapshot) store.installSnapshotData(snapshot);
    else store.installSnapshot(snapshot as SnapshotMeta);
  }

  async createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter> {
    return this.live().createSnapshot(meta, expected, () => void this.live());
  }

  async openSnapshot(): Promise<SnapshotReader | null> {
    return this.live().openSnapshot();
  }

  async snapshot(): Promise<Snapshot | null> {
    return this.live().snapshot();
  }

  async compact(index: number): Promise<void> {
    this.live().compact(index);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The store, if this handle may still use it. */
  private live(): MemoryLogStore {
    if (this.closed) throw new RaftError(ErrorCode.StorageFailed, 'memory log storage is closed');
    if (this.store.openCount !== this.lease) {
      throw new RaftError(ErrorCode.StorageFailed, 'stale memory log storage: its store was opened again');
    }
    return this.store;
  }
}
