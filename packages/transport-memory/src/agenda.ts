import { TimedHeap } from './heap.js';
import type { Scheduler } from './scheduler.js';

interface Slot<T> {
  readonly at: number;
  readonly seq: number;
  readonly task: T;
}

/**
 * The network's one queue of future work, run in (time, insertion) order whatever the
 * scheduler. At most one scheduler timer is pending at a time, so closing leaves none.
 */
export class Agenda<T> {
  private readonly heap = new TimedHeap<Slot<T>>();
  private seq = 0;
  private timer: unknown = undefined;
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly scheduler: Scheduler,
    /** Runs a due task. */
    private readonly run: (task: T) => void,
    /** Whether a queued task no longer needs to run (e.g. already delivered). */
    private readonly isStale: (task: T) => boolean,
  ) {}

  get size(): number {
    return this.heap.size;
  }

  /** Queues `task` to run at time `at` (scheduler time), after every task queued earlier for `at`. */
  push(at: number, task: T): void {
    this.heap.push({ at, seq: this.seq++, task });
    this.arm();
  }

  /** Removes every queued task matching `remove` and returns them. */
  removeWhere(remove: (task: T) => boolean): T[] {
    const removed = this.heap.removeWhere((slot) => remove(slot.task)).map((slot) => slot.task);
    this.arm();
    return removed;
  }

  /**
   * Runs the tasks due now. Tasks queued while running wait for the next timer, so two nodes
   * answering each other with zero delay cannot starve the event loop.
   */
  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.scheduler.now();
    const limit = this.seq;
    try {
      for (let next = this.heap.peek(); next && next.at <= now && next.seq < limit; next = this.heap.peek()) {
        this.heap.pop();
        this.run(next.task);
      }
    } finally {
      this.arm();
    }
  };

  /** Keeps exactly one timer pending, for the earliest live task, or none if there is none. */
  private arm(): void {
    let next = this.heap.peek();
    while (next && this.isStale(next.task)) {
      this.heap.pop();
      next = this.heap.peek();
    }
    if (next && this.timer !== undefined && this.armedAt <= next.at) return;
    if (this.timer !== undefined) this.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    if (!next) return;
    this.armedAt = next.at;
    this.timer = this.scheduler.setTimeout(this.fire, Math.max(0, next.at - this.scheduler.now()));
  }
}
