import type { ChangedRecord, KvChange } from './changes.js';
import { valueHeapBytes } from './values.js';

/** One revision that changed something, as the watch history keeps it. */
export interface HistoryEntry {
  readonly revision: number;
  /** As the state machine reported them (never mutated: records are immutable). */
  readonly changes: readonly KvChange[];
  /** `estimateChangeBytes(changes)`, kept so trimming subtracts what pushing added. */
  readonly bytes: number;
}

// Measured on Node 20 (V8, 64-bit; --expose-gc, heapUsed + external over 200k entries): an
// entry with one change and no records 137 B plus its key; a record (object, StoredValue,
// its own Uint8Array and ArrayBuffer) 288 B plus the value's bytes, 320 B with a 10 B value.
const ENTRY_BYTES = 64;
const CHANGE_BYTES = 72;
const RECORD_BYTES = 320;
const STRING_BYTES = 24;

const recordBytes = (r: ChangedRecord | undefined): number => (r === undefined ? 0 : RECORD_BYTES + valueHeapBytes(r.value));

/**
 * What a revision's changes keep alive, estimated from the measured sizes above. An upper
 * estimate: a record or key the live key space still holds is counted here too (the
 * history keeps it alive once the key space lets it go).
 */
export function estimateChangeBytes(changes: readonly KvChange[]): number {
  let bytes = ENTRY_BYTES;
  for (const c of changes) bytes += CHANGE_BYTES + STRING_BYTES + 2 * c.key.length + recordBytes(c.record) + recordBytes(c.prev);
  return bytes;
}

/**
 * The recent revisions that changed something, oldest first: a queue with O(1) push and
 * shift and a binary search by revision.
 */
export class RevisionHistory {
  /** Invariant: entries[head..] strictly ascending by revision; `total` is the sum of their bytes. */
  private entries: HistoryEntry[] = [];
  private head = 0;
  private total = 0;

  get length(): number {
    return this.entries.length - this.head;
  }

  /** Estimated bytes the held entries keep alive. */
  get bytes(): number {
    return this.total;
  }

  /** The i-th held entry, 0 being the oldest. */
  at(i: number): HistoryEntry {
    const e = this.entries[this.head + i];
    if (e === undefined || i < 0) throw new RangeError(`watch history has no entry ${i} (holds ${this.length})`);
    return e;
  }

  push(revision: number, changes: readonly KvChange[]): void {
    const last = this.entries[this.entries.length - 1];
    if (this.length > 0 && last !== undefined && revision <= last.revision) {
      throw new Error(`watch history: revision ${revision} pushed after ${last.revision}`);
    }
    const bytes = estimateChangeBytes(changes);
    this.entries.push({ revision, changes, bytes });
    this.total += bytes;
  }

  /** Removes and returns the oldest entry. */
  shift(): HistoryEntry {
    const e = this.at(0);
    this.entries[this.head] = undefined as never;
    this.head++;
    this.total -= e.bytes;
    // Reclaim the dead prefix once it is most of the array (amortised O(1)).
    if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.total = 0;
  }

  /** Index of the oldest held entry with revision >= `revision`; `length` if there is none. */
  firstAtOrAfter(revision: number): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid] as HistoryEntry).revision < revision) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }
}
