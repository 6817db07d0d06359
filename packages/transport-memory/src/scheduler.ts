import { ErrorCode, RaftError } from '@raftkit/core';
import { TimedHeap } from './heap.js';

/**
 * Where a MemoryNetwork gets time from. The default, `systemScheduler`, uses real timers; a
 * simulator passes a virtual clock such as `ManualScheduler`.
 *
 * Correctness:
 * - `now()` never decreases.
 * - A callback runs once, no earlier than `ms` after it was scheduled, unless cleared first.
 * - `clearTimeout` of a handle that already ran or was cleared does nothing.
 */
export interface Scheduler {
  /** Current time in milliseconds. */
  now(): number;
  /** Runs `callback` after `ms` milliseconds (0: as soon as possible, never synchronously). */
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

type SystemHandle = { readonly timeout: NodeJS.Timeout } | { readonly immediate: NodeJS.Immediate };

/** Real time: `setTimeout` for delays, `setImmediate` for zero delay (lets I/O run in between). */
export const systemScheduler: Scheduler = Object.freeze({
  now: () => performance.now(),
  setTimeout(callback: () => void, ms: number): SystemHandle {
    return ms > 0 ? { timeout: setTimeout(callback, ms) } : { immediate: setImmediate(callback) };
  },
  clearTimeout(handle: unknown): void {
    const h = handle as SystemHandle;
    if ('timeout' in h) clearTimeout(h.timeout);
    else clearImmediate(h.immediate);
  },
});

export interface ManualSchedulerOptions {
  /** The clock's initial time; default 0. */
  readonly startTime?: number;
  /**
   * Most callbacks one `advance`, `advanceTo` or `runUntilIdle` call may run before it throws
   * RAFT_TIMEOUT: virtual time cannot pass while callbacks keep rescheduling themselves with
   * zero delay. Default 1,000,000.
   */
  readonly maxCallbacks?: number;
}

interface ManualTimer {
  readonly at: number;
  /** Also the timer's handle. */
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A virtual clock. Time moves only when told to; due callbacks fire in a deterministic order:
 * by due time, then by the order they were scheduled.
 */
export class ManualScheduler implements Scheduler {
  private time: number;
  private readonly maxCallbacks: number;
  private seq = 0;
  private readonly queue = new TimedHeap<ManualTimer>();
  /** Invariant: holds exactly the handles of timers in `queue` that were not cleared. */
  private readonly live = new Set<number>();

  constructor(options: ManualSchedulerOptions = {}) {
    const { startTime = 0, maxCallbacks = 1_000_000 } = options;
    checkTime(startTime, 'startTime');
    if (!(Number.isSafeInteger(maxCallbacks) && maxCallbacks > 0)) {
      throw new RaftError(ErrorCode.InvalidConfig, `maxCallbacks must be a positive integer, got ${maxCallbacks}`);
    }
    this.time = startTime;
    this.maxCallbacks = maxCallbacks;
  }

  now(): number {
    return this.time;
  }

  /** Schedules `callback` at `now() + ms` and returns its id. A negative or NaN `ms` means 0. */
  setTimeout(callback: () => void, ms: number): number {
    const delay = ms > 0 ? ms : 0;
    checkTime(delay, 'ms');
    const timer = { at: this.time + delay, seq: this.seq++, callback };
    this.queue.push(timer);
    this.live.add(timer.seq);
    return timer.seq;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.live.delete(handle);
  }

  /** Number of callbacks waiting to run. */
  get pending(): number {
    return this.live.size;
  }

  /** When the next callback is due, or undefined if none is waiting. */
  nextAt(): number | undefined {
    return this.peekLive()?.at;
  }

  /** Moves time to the next due callback and runs it. Returns false if none was waiting. */
  runNext(): boolean {
    const timer = this.peekLive();
    if (!timer) return false;
    this.queue.pop();
    this.live.delete(timer.seq);
    this.time = Math.max(this.time, timer.at);
    timer.callback();
    return true;
  }

  /**
   * Moves time forward by `ms`, running every callback that falls due on the way (including
   * ones scheduled by those callbacks), each at its own time. Returns how many ran.
   */
  advance(ms: number): number {
    checkTime(ms, 'ms');
    return this.advanceTo(this.time + ms);
  }

  /** Like `advance`, to an absolute time (no earlier than now). */
  advanceTo(time: number): number {
    checkTime(time - this.time, 'time - now()');
    let ran = 0;
    for (let next = this.peekLive(); next && next.at <= time; next = this.peekLive()) {
      this.runCounted(++ran);
    }
    this.time = time;
    return ran;
  }

  /** Runs callbacks, moving time forward, until none is waiting. Returns how many ran. */
  runUntilIdle(): number {
    let ran = 0;
    while (this.peekLive()) this.runCounted(++ran);
    return ran;
  }

  private runCounted(count: number): void {
    if (count > this.maxCallbacks) {
      throw new RaftError(ErrorCode.Timeout, `still busy after ${this.maxCallbacks} callbacks: a zero-delay loop?`);
    }
    this.runNext();
  }

  /** Drops cleared timers from the top of the queue and returns the first live one. */
  private peekLive(): ManualTimer | undefined {
    let top = this.queue.peek();
    while (top && !this.live.has(top.seq)) {
      this.queue.pop();
      top = this.queue.peek();
    }
    return top;
  }
}

function checkTime(value: number, name: string): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RaftError(ErrorCode.InvalidArgument, `${name} must be a finite number >= 0, got ${value}`);
  }
}
