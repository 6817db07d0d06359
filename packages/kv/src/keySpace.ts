import type { StoredValue, ValueStore } from './values.js';

/**
 * A key's current value and its history in revisions (log indexes), as in etcd. Invariant:
 * createRevision <= modRevision, version >= 1 (an absent key has no record; comparisons treat
 * it as createRevision = modRevision = version = 0).
 */
export interface KeyRecord {
  readonly value: StoredValue;
  /** Revision of the write that last set the key. */
  readonly modRevision: number;
  /** Revision of the write that created the key (since it was last absent). */
  readonly createRevision: number;
  /** Writes to the key since it was created: 1 after the creating put. */
  readonly version: number;
  /** The lease the key is attached to; 0 for none. A put without a lease detaches it. */
  readonly lease: number;
}

/** Key order everywhere (ranges, snapshots): JavaScript string order, i.e. by UTF-16 code unit. */
export const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The key space as it was when `KeySpace.capture()` was called, however it changes after.
 * Copy-on-write: the capture holds a copy of the sorted key array (pointers only) and an
 * overlay into which the key space saves a key's record (or its absence) the first time the
 * key is set or deleted after the capture. Records and values are never mutated in place
 * (every set stores a new record; value bytes are copied on decode and never written), so an
 * untouched key's live record is still the captured one.
 */
export class KeySpaceCapture {
  /** Invariant: holds, for every key changed since the capture, its record then (undefined: absent). */
  readonly overlay = new Map<string, KeyRecord | undefined>();

  constructor(
    private readonly live: ReadonlyMap<string, KeyRecord>,
    private readonly keys: readonly string[],
  ) {}

  get size(): number {
    return this.keys.length;
  }

  /** Every captured key in key order, with its record at the capture. */
  *inOrder(): IterableIterator<[string, KeyRecord]> {
    for (const key of this.keys) {
      const record = this.overlay.has(key) ? this.overlay.get(key) : this.live.get(key);
      if (record === undefined) throw new Error(`kv snapshot capture lost key ${JSON.stringify(key)}`);
      yield [key, record];
    }
  }
}

/**
 * The keys and values, with a sorted index for prefix ranges. A sorted array (binary search,
 * splice on insert) is simple and fast for the sizes an in-memory replicated map holds; only
 * inserting or deleting a key moves the array, overwriting does not.
 */
export class KeySpace {
  private readonly records = new Map<string, KeyRecord>();
  /** Invariant: exactly the keys of `records`, strictly ascending by compareKeys. */
  private sorted: string[] = [];
  /**
   * Captures still in use. Held weakly: a snapshot stream dropped unread (or read and dropped)
   * must not make every later write pay for it, nor keep its overlay growing.
   */
  private captures: WeakRef<KeySpaceCapture>[] = [];

  /** @param values where stored values' bytes are kept (default: as given, in memory). */
  constructor(private readonly values?: ValueStore) {}

  get size(): number {
    return this.records.size;
  }

  get(key: string): KeyRecord | undefined {
    return this.records.get(key);
  }

  /**
   * Stores `value` at `revision`, attached to `lease` (0: none); returns the new record. A key
   * that was absent is (re)created: createRevision = revision, version 1.
   */
  set(key: string, given: StoredValue, revision: number, lease = 0): KeyRecord {
    const value = this.values === undefined ? given : this.values.hold(given);
    const old = this.records.get(key);
    if (this.captures.length > 0) this.preserve(key, old);
    if (old === undefined) this.sorted.splice(this.lowerBound(key), 0, key);
    const record: KeyRecord =
      old === undefined
        ? { value, modRevision: revision, createRevision: revision, version: 1, lease }
        : { value, modRevision: revision, createRevision: old.createRevision, version: old.version + 1, lease };
    this.records.set(key, record);
    return record;
  }

  /** Removes `key`; returns its record, or undefined (changing nothing) if it was absent. */
  delete(key: string): KeyRecord | undefined {
    const old = this.records.get(key);
    if (old === undefined) return undefined;
    if (this.captures.length > 0) this.preserve(key, old);
    this.records.delete(key);
    this.sorted.splice(this.lowerBound(key), 1);
    return old;
  }

  /**
   * The key space as it is now, unchanged by later writes: O(keys) pointer copy of the sorted
   * index, then O(1) per write (the first to each key) while the capture is alive.
   */
  capture(): KeySpaceCapture {
    const c = new KeySpaceCapture(this.records, this.sorted.slice());
    this.captures.push(new WeakRef(c));
    return c;
  }

  /** Saves `key`'s record before its first change since each live capture. */
  private preserve(key: string, old: KeyRecord | undefined): void {
    let dead = 0;
    for (const ref of this.captures) {
      const c = ref.deref();
      if (c === undefined) dead++;
      else if (!c.overlay.has(key)) c.overlay.set(key, old);
    }
    if (dead > 0) this.captures = this.captures.filter((ref) => ref.deref() !== undefined);
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
    this.records.set(key, this.values === undefined ? record : { ...record, value: this.values.hold(record.value) });
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
