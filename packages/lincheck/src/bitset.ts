const FULL = 0xffffffff;

/** The set of linearized operations, indexed by call order. */
export class LinearizedSet {
  private readonly words: Uint32Array;
  /** Invariant: words[0..full) are all ones and words[full] (if any) is not. */
  private full = 0;
  /** Invariant: full <= end, and every word at index >= end is zero. */
  private end = 0;

  constructor(size: number) {
    // One spare word that is never full, so the scan in `add` stops.
    this.words = new Uint32Array(Math.ceil(size / 32) + 1);
  }

  has(bit: number): boolean {
    return (this.words[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  add(bit: number): void {
    const w = bit >>> 5;
    this.words[w] |= 1 << (bit & 31);
    if (w + 1 > this.end) this.end = w + 1;
    while (this.words[this.full] === FULL) this.full++;
    if (this.full > this.end) this.end = this.full;
  }

  remove(bit: number): void {
    const w = bit >>> 5;
    this.words[w] &= ~(1 << (bit & 31));
    if (w < this.full) this.full = w;
    while (this.end > this.full && this.words[this.end - 1] === 0) this.end--;
  }

  /** The set's words up to its last non-zero one: canonical, for {@link isSubset}. */
  bits(): Uint32Array {
    return this.words.slice(0, this.end);
  }

  /**
   * A canonical string for the set: the word count below which it has everything except the
   * listed bits. A linearized set is "everything before some point, minus the few operations
   * still pending or never applied", so the key stays short on long histories, where a copy
   * of the bitset (Porcupine's choice) would grow with the history.
   */
  key(): string {
    let key = `${this.end}`;
    for (let w = this.full; w < this.end; w++) {
      const word = this.words[w];
      if (word === FULL) continue;
      for (let b = 0; b < 32; b++) if ((word & (1 << b)) === 0) key += `,${w * 32 + b}`;
    }
    return key;
  }
}

/** Whether every bit of `a` is in `b` (both from {@link LinearizedSet.bits}). */
export function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if ((a[i] & ~b[i]) !== 0) return false;
  return true;
}
