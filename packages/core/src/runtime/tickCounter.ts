import type { Clock } from './clock.js';

/**
 * Counts ticks by the monotonic clock, not by timer callbacks. Timer callbacks only wake the
 * node: a process that was paused or stalled gets none for the whole stall, and counting
 * callbacks would let a leader believe its lease (thesis §6.4.1), its quorum check and a
 * follower its boot guard are younger than they are. Beyond two election timeouts more ticks
 * change nothing (every timer has fired, every lease has lapsed), so a long stall costs no more.
 */
export class TickCounter {
  /** Monotonic time at which tick 0 was due. */
  private origin = 0;
  /** Ticks handed out since `origin`. */
  private done = 0;

  constructor(
    private readonly clock: Clock,
    private readonly tickMs: number,
    /** The most ticks one catch-up hands out (2 × electionTicks + 1). */
    private readonly cap: number,
  ) {}

  start(): void {
    this.origin = this.clock.now();
    this.done = 0;
  }

  /** How many ticks are due now (at most `cap`); they count as handed out. */
  due(): number {
    const due = Math.floor((this.clock.now() - this.origin) / this.tickMs);
    const behind = due - this.done;
    if (behind <= 0) return 0;
    this.done = due;
    return Math.min(behind, this.cap);
  }
}
