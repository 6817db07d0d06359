import type { Clock } from '@raftkit/core';
import type { ManualScheduler } from '@raftkit/transport-memory';

interface IntervalHandle {
  timer: unknown;
  cancelled: boolean;
}

/**
 * One node's view of the simulation's virtual time. `kill()` models the process dying:
 * every timer it set is cancelled and none fires again, so a crashed node's pending work
 * (a tick, a slow disk write) simply never happens.
 */
export class NodeClock implements Clock {
  private readonly timers = new Set<unknown>();
  private dead = false;
  /** SIGSTOP: time goes on, but callbacks that come due wait (in order) until `resume()`. */
  private paused = false;
  private readonly deferred = new Map<unknown, () => void>();

  constructor(private readonly sched: ManualScheduler) {}

  now(): number {
    return this.sched.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    if (this.dead) return null;
    const h: unknown = this.sched.setTimeout(() => {
      this.timers.delete(h);
      if (this.dead) return;
      if (this.paused) this.deferred.set(h, fn);
      else fn();
    }, ms);
    this.timers.add(h);
    return h;
  }

  clearTimeout(h: unknown): void {
    this.sched.clearTimeout(h);
    this.timers.delete(h);
    this.deferred.delete(h);
  }

  /** The process is stopped (SIGSTOP, or an event loop blocked): no callback of it runs. */
  pause(): void {
    this.paused = true;
  }

  /** SIGCONT: what came due meanwhile runs now (in order), after whatever the caller does first. */
  resume(): void {
    this.paused = false;
    const due = [...this.deferred.keys()];
    const h: unknown = this.sched.setTimeout(() => {
      this.timers.delete(h);
      for (const d of due) {
        const fn = this.deferred.get(d);
        // Cleared meanwhile, or paused again: leave it (clearTimeout and the next resume see it).
        if (!fn || this.paused || this.dead) continue;
        this.deferred.delete(d);
        fn();
      }
    }, 0);
    this.timers.add(h);
  }

  setInterval(fn: () => void, ms: number): unknown {
    const handle: IntervalHandle = { timer: null, cancelled: false };
    const arm = (): void => {
      handle.timer = this.setTimeout(() => {
        if (handle.cancelled) return;
        arm();
        fn();
      }, ms);
    };
    arm();
    return handle;
  }

  clearInterval(h: unknown): void {
    const handle = h as IntervalHandle;
    handle.cancelled = true;
    this.clearTimeout(handle.timer);
  }

  kill(): void {
    this.dead = true;
    for (const h of this.timers) this.sched.clearTimeout(h);
    this.timers.clear();
  }
}
