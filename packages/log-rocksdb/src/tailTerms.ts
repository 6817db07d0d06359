/**
 * Terms of the most recent log entries, so `term()` near the end of the log (what Raft asks
 * for most: prevLogTerm, lastLogTerm) needs no disk read.
 * Invariant: terms[k] is the term of entry `start + k`, and the entries covered are a suffix
 * of the durable log (the caller keeps it in step with every durable change).
 */
export class TailTerms {
  private start = 1;
  private terms: number[] = [];

  constructor(private readonly capacity: number) {}

  get(index: number): number | undefined {
    const k = index - this.start;
    return k >= 0 && k < this.terms.length ? this.terms[k] : undefined;
  }

  /** Forgets everything; the next entry appended will be `next`. */
  reset(next: number): void {
    this.start = next;
    this.terms = [];
  }

  /** Records entries `first, first + 1, ...`, discarding any cached entry at or after `first`. */
  append(first: number, terms: readonly number[]): void {
    const k = first - this.start;
    if (k < 0 || k > this.terms.length) this.reset(first);
    else this.terms.length = k;
    for (const t of terms) this.terms.push(t);
    if (this.capacity <= 0) this.reset(first + terms.length);
    else if (this.terms.length > 2 * this.capacity) this.dropBefore(this.start + this.terms.length - this.capacity);
  }

  /** Discards entries below `index` (they were compacted). */
  dropBefore(index: number): void {
    const k = Math.min(index - this.start, this.terms.length);
    if (k <= 0) return;
    this.terms.splice(0, k);
    this.start = index;
  }
}
