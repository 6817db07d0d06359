import type { StoredValue } from './values.js';

/** A key's current value and the revision (log index) of the write that last set it. */
export interface KeyRecord {
  readonly value: StoredValue;
  readonly modRevision: number;
}

/** Key order everywhere (ranges, snapshots): JavaScript string order, i.e. by UTF-16 code unit. */
export const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The keys and values, with a sorted index for prefix ranges. A sorted array (binary search,
 * splice on insert) is simple and fast for the sizes an in-memory replicated map holds; only
 * inserting or deleting a key moves the array, overwriting does not.
 */
export class KeySpace {
  private readonly records = new Map<string, KeyRecord>();
  /** Invariant: exactly the keys of `records`, strictly ascending by compareKeys. */
  private sorted: string[] = [];

  get size(): number {
    return this.records.size;
  }

  get(key: string): KeyRecord | undefined {
    return this.records.get(key);
  }

  set(key: string, value: StoredValue, revision: number): void {
    if (!this.records.has(key)) this.sorted.splice(this.lowerBound(key), 0, key);
    this.records.set(key, { value, modRevision: revision });
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    if (!this.records.delete(key)) return false;
    this.sorted.splice(this.lowerBound(key), 1);
    return true;
  }

  /** Up to `limit` keys starting with `prefix`, in key order; `more` if some were left out. */
  range(prefix: string, limit: number): { entries: [string, KeyRecord][]; more: boolean } {
    const entries: [string, KeyRecord][] = [];
    for (let i = this.lowerBound(prefix); i < this.sorted.length; i++) {
      const key = this.sorted[i]!;
      if (!key.startsWith(prefix)) break;
      if (entries.length === limit) return { entries, more: true };
      entries.push([key, this.records.get(key)!]);
    }
    return { entries, more: false };
  }

  /** Every key in key order (what a snapshot writes). */
  *inOrder(): IterableIterator<[string, KeyRecord]> {
    for (const key of this.sorted) yield [key, this.records.get(key)!];
  }

  /**
   * Appends a key that sorts after every key held (restoring a snapshot in one pass).
   * Returns false, changing nothing, if it does not.
   */
  append(key: string, record: KeyRecord): boolean {
    const last = this.sorted[this.sorted.length - 1];
    if (last !== undefined && compareKeys(last, key) >= 0) return false;
    this.sorted.push(key);
    this.records.set(key, record);
    return true;
  }

  /** Index of the first key >= `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
