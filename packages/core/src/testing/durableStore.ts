import type { Entry, HardState, Snapshot } from '../consensus/types.js';

/** What a simulated node has made durable: exactly what survives its crash. */
export interface DurableStore {
  hardState: HardState;
  entries: Entry[];
  snapshot: Snapshot | null;
}

export function newStore(): DurableStore {
  return { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null };
}

/** Applies a Ready's persistence part to a store, as a LogStorage would. */
export function persist(store: DurableStore, snapshot: Snapshot | null, entries: readonly Entry[], hs: HardState | null): void {
  if (snapshot) {
    store.snapshot = snapshot;
    const keep = store.entries.find((e) => e.index === snapshot.meta.index)?.term === snapshot.meta.term;
    store.entries = keep ? store.entries.filter((e) => e.index > snapshot.meta.index) : [];
  }
  if (entries.length > 0) {
    const first = entries[0]!.index;
    store.entries = store.entries.filter((e) => e.index < first).concat(entries);
  }
  if (hs) store.hardState = hs;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const str = (b: Uint8Array): string => dec.decode(b);
