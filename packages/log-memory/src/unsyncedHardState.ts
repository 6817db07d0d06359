import type { HardState } from '@raftkit/core';
import type { MemoryLogStorage } from './memoryLogStorage.js';

/**
 * For simulated disks: the latest hard state written with `sync: false` (a commit index),
 * held "in the page cache" until the next synced write makes it durable, and kept or lost by a
 * seeded coin when the machine crashes first. Only such a trailing unsynced write is ever at
 * risk, never one a later synced write covered (`LogWrite.sync`).
 */
export class UnsyncedHardState {
  private pending: HardState | null = null;

  constructor(private readonly storage: MemoryLogStorage) {}

  /** The hard state waiting unsynced, or null. */
  get value(): HardState | null {
    return this.pending;
  }

  hold(hs: HardState): void {
    this.pending = hs;
  }

  /** A synced write is about to go to disk: what waited goes first. */
  async flush(): Promise<void> {
    if (this.pending) await this.storage.save({ hardState: this.pending });
    this.pending = null;
  }

  /** The machine died: the waiting write reached the disk only if `survives`. Returns whether one was lost. */
  crash(survives: boolean): boolean {
    const lost = this.pending !== null && !survives;
    if (this.pending && survives) this.storage.store.save({ hardState: this.pending });
    this.pending = null;
    return lost;
  }
}
