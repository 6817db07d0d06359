import type { Entry, HardState, SnapshotMeta } from '../consensus/types.js';

/** One write as a Ready hands it to storage. */
export interface StoreWrite {
  snapshot: SnapshotMeta | null;
  entries: readonly Entry[];
  hardState: HardState | null;
}

/** What a simulated node has made durable: exactly what survives its crash. */
export interface DurableStore {
  hardState: HardState;
  /** The held log; it may start below the snapshot (a trailing log), right after `compacted`. */
  entries: Entry[];
  snapshot: SnapshotMeta | null;
  /** The installed snapshot's bytes, for storages that keep them (the simulation does not). */
  snapshotBytes?: Uint8Array;
  /** Their SHA-256 when the snapshot was written (what a reader reports, whatever the bytes became). */
  snapshotChecksum?: string;
  compacted: { index: number; term: number };
  /**
   * Writes saved with `sync: false` since the last synced one, in order: in the operating
   * system's cache, not yet on disk. A crash keeps a random prefix of them (`crashStore`).
   */
  unsynced?: StoreWrite[];
}

export function newStore(): DurableStore {
  return { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null, compacted: { index: 0, term: 0 }, unsynced: [] };
}

function apply(store: DurableStore, { snapshot, entries, hardState }: StoreWrite): void {
  if (snapshot) {
    // LogStorage.installSnapshot: a log that holds the snapshot's entry is kept whole; any
    // other is discarded and starts after the snapshot.
    store.snapshot = snapshot;
    const keep = store.entries.find((e) => e.index === snapshot.index)?.term === snapshot.term;
    if (!keep) {
      store.entries = [];
      store.compacted = { index: snapshot.index, term: snapshot.term };
    }
  }
  if (entries.length > 0) {
    const first = entries[0]!.index;
    store.entries = store.entries.filter((e) => e.index < first).concat(entries);
  }
  if (hardState) store.hardState = hardState;
}

/**
 * Applies a Ready's persistence part to a store, as a LogStorage would. A synced write
 * (`sync`, the default) is an fsync of a sequential log (RocksDB's WAL): it makes itself and
 * every earlier write durable, so the unsynced writes before it reach the disk with it. An
 * unsynced write waits in `unsynced` until then, and a crash before then may lose it.
 */
export function persist(store: DurableStore, snapshot: SnapshotMeta | null, entries: readonly Entry[], hs: HardState | null, sync = true): void {
  const write: StoreWrite = { snapshot, entries, hardState: hs };
  if (!sync) {
    (store.unsynced ??= []).push(write);
    return;
  }
  for (const w of store.unsynced ?? []) apply(store, w);
  store.unsynced = [];
  apply(store, write);
}

/** LogStorage.compact: drops the held entries up to `index` (which the snapshot covers). */
export function compactStore(store: DurableStore, index: number): void {
  if (index <= store.compacted.index) return;
  const at = store.entries.find((e) => e.index === index);
  if (!at) throw new Error(`compacting the simulated store to ${index}, which it does not hold`);
  store.compacted = { index, term: at.term };
  store.entries = store.entries.filter((e) => e.index > index);
}

/**
 * A crash: of the writes not yet fsync'd, a random prefix happened to reach the disk (the
 * log is sequential, so what survives is a prefix, never a later write without an earlier
 * one); the rest is lost. `random` is the simulation's seeded source, so a seed replays the
 * same losses. Returns how many writes were lost.
 */
export function crashStore(store: DurableStore, random: () => number): number {
  const unsynced = store.unsynced ?? [];
  const kept = Math.floor(random() * (unsynced.length + 1));
  for (const w of unsynced.slice(0, kept)) apply(store, w);
  store.unsynced = [];
  return unsynced.length - kept;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const str = (b: Uint8Array): string => dec.decode(b);
