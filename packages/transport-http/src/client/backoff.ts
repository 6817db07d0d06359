import type { BackoffOptions } from '../options.js';

/**
 * Exponential backoff with "equal jitter": after the n-th consecutive failure wait a random
 * time in [c/2, c] with c = min(max, initial * 2^(n-1)). Jitter keeps nodes that lost a peer
 * at the same moment from retrying in lockstep; the floor of c/2 keeps the wait growing.
 */
export class Backoff {
  /** Failures since the last success. */
  failures = 0;
  /** The wait chosen after the last failure; 0 while healthy. */
  currentMs = 0;
  private until = 0;

  constructor(
    private readonly options: Required<BackoffOptions>,
    private readonly random: () => number,
  ) {}

  /** Records a failure at `now` (monotonic ms) and returns how long to back off. */
  failed(now: number): number {
    this.failures += 1;
    const doublings = Math.min(this.failures - 1, 30);
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** doublings);
    this.currentMs = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
    this.until = now + this.currentMs;
    return this.currentMs;
  }

  succeeded(): void {
    this.failures = 0;
    this.currentMs = 0;
    this.until = 0;
  }

  /** True while sends to the peer should be dropped. */
  active(now: number): boolean {
    return now < this.until;
  }
}
