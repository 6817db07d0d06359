import type { Budget } from './types.js';

/** How often (in steps) the clock is read; reading it every step would dominate. */
const CLOCK_EVERY = 1024;

export const defaultNow = (): number => performance.now();

/** Counts search steps against a budget, shared by every search it is passed to. */
export class StepMeter {
  /** Steps taken so far. Invariant: never decreases. */
  steps = 0;
  private exhausted = false;
  private readonly maxSteps: number;
  private readonly deadline: number;

  /** With a `parent`, every step also counts against it, and its exhaustion ends this one. */
  constructor(
    budget: Budget = {},
    private readonly now: () => number = defaultNow,
    private readonly parent?: StepMeter,
  ) {
    this.maxSteps = budget.maxSteps ?? Infinity;
    this.deadline = budget.timeoutMs === undefined ? Infinity : now() + budget.timeoutMs;
  }

  /** Takes one step; false once the budget is spent. */
  tick(): boolean {
    if (this.exhausted) return false;
    this.steps++;
    if (this.steps > this.maxSteps || (this.parent && !this.parent.tick())) this.exhausted = true;
    else if (this.steps % CLOCK_EVERY === 0 && this.now() > this.deadline) this.exhausted = true;
    return !this.exhausted;
  }

  get spent(): boolean {
    return this.exhausted;
  }
}
