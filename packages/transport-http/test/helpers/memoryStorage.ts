import { ErrorCode, RaftError, emptyHardState } from '@raftkit/core';
import type { AppliedEntry, Entry, HardState, LogStorage, LogWrite, Snapshot, SnapshotMeta, StateMachine, StoredState } from '@raftkit/core';

/**
 * An in-test LogStorage (after core's test FakeStorage): everything "durable" lives in memory.
 * Enough to run RaftNode over a real transport; durability is not what these tests check.
 */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = emptyHardState;
  private snap: Snapshot | null = null;
  /** Invariant: consecutive indexes starting at snapshot index + 1. */
  private log: Entry[] = [];

  private get first(): number {
    return (this.snap?.meta.index ?? 0) + 1;
  }

  async state(): Promise<StoredState> {
    return { hardState: this.hardState, snapshot: this.snap?.meta ?? null, firstIndex: this.first, lastIndex: this.first + this.log.length - 1 };
  }

  async entries(lo: number, hi: number): Promise<Entry[]> {
    if (lo < this.first) throw new RaftError(ErrorCode.Compacted, `entry ${lo} is compacted`);
    return this.log.slice(lo - this.first, hi - this.first);
  }

  async term(index: number): Promise<number> {
    if (this.snap && index === this.snap.meta.index) return this.snap.meta.term;
    const entry = this.log[index - this.first];
    if (!entry) throw new RaftError(ErrorCode.Unavailable, `no entry ${index}`);
    return entry.term;
  }

  async save(write: LogWrite): Promise<void> {
    const entries = write.entries ?? [];
    if (entries.length > 0) this.log = this.log.slice(0, entries[0].index - this.first).concat(entries);
    if (write.hardState) this.hardState = write.hardState;
  }

  async installSnapshot(snapshot: Snapshot): Promise<void> {
    const { index, term } = snapshot.meta;
    const agrees = this.log[index - this.first]?.term === term;
    this.log = agrees ? this.log.slice(index - this.first + 1) : [];
    this.snap = snapshot;
  }

  async snapshot(): Promise<Snapshot | null> {
    return this.snap;
  }

  async compact(): Promise<void> {}

  async close(): Promise<void> {}
}

const text = new TextDecoder();

/** Appends each command's text to a list; the result is the list's new length. */
export class ListMachine implements StateMachine<number> {
  items: string[] = [];

  apply(entry: AppliedEntry): number {
    this.items.push(text.decode(entry.data));
    return this.items.length;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }

  restore(data: Uint8Array, _meta: SnapshotMeta): void {
    this.items = JSON.parse(text.decode(data)) as string[];
  }
}
