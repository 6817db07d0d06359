import type { Entry, LogStorage, LogWrite, Snapshot, StoredState } from '@raftkit/core';
import type { MemoryLogStorage } from '@raftkit/log-memory';
import type { NodeClock } from './nodeClock.js';

/** What the safety checker learns from a write the moment it becomes durable. */
export interface DurableWriteObserver {
  /** Must not throw: a throw would fail the node's write instead of reporting the violation. */
  entriesDurableGuarded(node: string, entries: readonly Entry[], termAt: (index: number) => number | undefined): void;
}

/**
 * A node's disk in the simulation: a MemoryLogStorage whose writes become durable after a
 * (virtual) delay, in order. When the node crashes its clock dies, so writes still waiting
 * never happen, exactly what a crash before fsync loses.
 */
export class SimStorage implements LogStorage {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly node: string,
    private readonly inner: MemoryLogStorage,
    private readonly clock: NodeClock,
    private readonly delayMs: () => number,
    private readonly observer: DurableWriteObserver,
  ) {}

  state(): Promise<StoredState> {
    return this.inner.state();
  }
  entries(lo: number, hi: number): Promise<Entry[]> {
    return this.inner.entries(lo, hi);
  }
  term(index: number): Promise<number> {
    return this.inner.term(index);
  }
  snapshot(): Promise<Snapshot | null> {
    return this.inner.snapshot();
  }
  compact(index: number): Promise<void> {
    return this.inner.compact(index);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  save(write: LogWrite): Promise<void> {
    return this.later(async () => {
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

  installSnapshot(s: Snapshot): Promise<void> {
    return this.later(() => this.inner.installSnapshot(s));
  }

  /** Runs `op` after the disk delay, after every earlier write. */
  private later(op: () => Promise<void>): Promise<void> {
    const run = this.chain.then(
      () =>
        new Promise<void>((resolve, reject) => {
          const ms = this.delayMs();
          const go = () => op().then(resolve, reject);
          if (ms <= 0) go();
          else this.clock.setTimeout(go, ms);
        }),
    );
    this.chain = run.catch(() => {});
    return run;
  }
}
