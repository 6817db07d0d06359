import type { Clock } from '@raftkit/core';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  /** 0 for a one-shot timer. */
  every: number;
}

/** Lets every pending promise callback run (they all come before the next macrotask). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Virtual time for a whole simulated cluster: RaftNode timers, the memory network's delivery
 * (it is also a transport-memory Scheduler) and clients. Time moves only in `run*`; due timers
 * fire in (time, scheduling order), and promise callbacks settle whenever time is about to
 * move on, so a run is a pure function of its inputs. Never sleeps.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  /** Min-heap by (at, seq). */
  private heap: Timer[] = [];
  private readonly live = new Map<number, Timer>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    return this.add(fn, ms, 0);
  }

  clearTimeout(handle: unknown): void {
    this.live.delete(handle as number);
  }

  setInterval(fn: () => void, ms: number): number {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearInterval(handle: unknown): void {
    this.live.delete(handle as number);
  }

  /**
   * Runs every timer due within `ms` from now, each at its own time. Timers due at the same
   * instant run back to back (they are concurrent anyway); promises settle before time moves.
   */
  async run(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (let next = this.peek(); next && next.at <= end; next = this.peek()) {
      this.fire(next);
      const after = this.peek();
      if (!after || after.at > this.t) await settle();
    }
    this.t = end;
  }

  /** Runs in steps until `cond` holds; throws after `maxMs` of virtual time. */
  async until(cond: () => boolean, maxMs = 10_000, stepMs = 10): Promise<void> {
    for (let waited = 0; !cond(); waited += stepMs) {
      if (waited >= maxMs) throw new Error(`condition not met within ${maxMs} virtual ms`);
      await this.run(stepMs);
    }
  }

  /** Runs until `p` settles (or `maxMs` passes), returning its outcome. */
  async settleOf<T>(p: Promise<T>, maxMs = 30_000): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
    p.then(
      (value) => (outcome = { ok: true, value }),
      (error) => (outcome = { ok: false, error }),
    );
    await this.until(() => outcome !== null, maxMs);
    return outcome!;
  }

  private add(fn: () => void, ms: number, every: number): number {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: ++this.seq, fn, every };
    this.live.set(timer.seq, timer);
    this.push(timer);
    return timer.seq;
  }

  private fire(timer: Timer): void {
    this.pop();
    this.t = Math.max(this.t, timer.at);
    if (timer.every > 0) {
      // Re-armed under the same handle, so clearInterval keeps working.
      const again: Timer = { ...timer, at: timer.at + timer.every, seq: timer.seq };
      this.live.set(timer.seq, again);
      this.push(again);
    } else {
      this.live.delete(timer.seq);
    }
    timer.fn();
  }

  /** The earliest live timer; cleared or superseded entries are dropped on the way. */
  private peek(): Timer | undefined {
    while (this.heap.length > 0 && this.live.get(this.heap[0]!.seq) !== this.heap[0]) this.pop();
    return this.heap[0];
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/**
 * Order of due timers. A re-armed interval keeps its original seq, so ties at one instant go
 * by when each timer was first created: deterministic, and fair between nodes' tickers.
 */
const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);
