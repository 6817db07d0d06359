import { StepMeter } from './meter.js';
import { searchLinearization, type SearchOp } from './search.js';
import type { Budget, Model, NormalizedOperation, Verdict, Witness } from './types.js';

/** One check may not take more; a check that runs out counts as "not illegal". */
const STEPS_PER_CHECK = 500_000;

/**
 * Removes whole chunks of `items`, then halves the chunk size, keeping each removal for which
 * `stillHolds` is true (after Zeller's delta debugging). With chunk size 1 the result is
 * 1-minimal unless `stop()` cut it short.
 */
function removeWhile<T>(items: readonly T[], stillHolds: (rest: T[]) => boolean, stop: () => boolean): T[] {
  let kept = [...items];
  for (let size = Math.ceil(kept.length / 2); size >= 1 && !stop(); size = size === 1 ? 0 : Math.ceil(size / 2)) {
    for (let i = 0; i < kept.length && !stop(); ) {
      const rest = kept.slice(0, i).concat(kept.slice(i + size));
      if (stillHolds(rest)) kept = rest;
      else i += size;
    }
  }
  return kept;
}

/**
 * Windows tried, in operations before the stuck one. Checks with many weakened operations
 * cost roughly quadratic time in the window, so long parts are shrunk near the problem.
 */
const WINDOWS = [16, 32, 64, 128, 256, 512];

/** Indices into the part, in call order. Invariant: `candidates` ⊆ `all`. */
interface Window {
  readonly candidates: readonly number[];
  readonly all: readonly number[];
}

/**
 * Shrinks a non-linearizable part in two passes.
 *
 * 1. Weaken: an `ok` operation stays *essential* only if, when it is weakened (it may or may
 *    not take effect, within its original [call, return], with any output), the history
 *    becomes linearizable. Everything else is weakened.
 * 2. Drop context: a weakened operation is removed if the rest stays illegal and every
 *    essential operation stays essential.
 *
 * Plain deletion would be cheaper but explains nothing: deleting the writes of a stale read
 * leaves "a read of a value never written". Weakening keeps the operations that explain
 * where the values came from as context.
 *
 * On a long part this runs on growing windows of operations ending at the stuck one, and
 * stops when two windows give the same essential operations (or the window is the part).
 */
class Shrinker<S, I, O> {
  private readonly meter: StepMeter;
  /** Whether every check of the current window finished. */
  private decisive = true;

  constructor(
    private readonly model: Model<S, I, O>,
    private readonly ops: readonly NormalizedOperation<I, O>[],
    budget: Budget,
    now: () => number,
  ) {
    this.meter = new StepMeter(budget, now);
  }

  run(stuck: number): Witness<I, O> | undefined {
    let previous: Witness<I, O> | undefined;
    let covered = 0;
    for (const size of [...WINDOWS, Infinity]) {
      const window = this.window(stuck, size);
      if (window.all.length === covered || this.meter.spent) break;
      covered = window.all.length;
      if (this.verdict(window.candidates, without(window.all, window.candidates)) !== 'illegal') continue;
      const witness = this.shrink(window);
      // A shrink the budget cut short is worse than a finished one from a smaller window.
      if (!witness.minimal) return previous?.minimal ? previous : witness;
      const whole = window.all.length === this.ops.length;
      if (whole || (previous && sameIds(previous.essential, witness.essential))) return witness;
      previous = witness;
    }
    return previous;
  }

  /**
   * The `ok` operations among the last `size` called before the stuck one returned are
   * candidates to be essential. Operations just before them, and those called before a
   * candidate returned, are kept as context only: they may explain a value a candidate saw,
   * so cutting them would leave "a read of a value never written".
   */
  private window(stuck: number, size: number): Window {
    const limit = this.ops[stuck].return;
    const start = Math.max(0, stuck - size);
    const candidates: number[] = [];
    let end = limit;
    for (let i = start; i < this.ops.length && this.ops[i].call <= limit; i++) {
      if (this.ops[i].status !== 'ok') continue;
      candidates.push(i);
      end = Math.max(end, this.ops[i].return);
    }
    const all: number[] = [];
    for (let i = Math.max(0, start - Math.ceil(size / 2)); i < this.ops.length && this.ops[i].call <= end; i++) all.push(i);
    return { candidates, all };
  }

  private shrink({ candidates, all }: Window): Witness<I, O> {
    this.decisive = true;
    const before = this.meter.steps;
    const stop = () => this.meter.spent;
    const essential = removeWhile(candidates, (e) => this.verdict(e, without(all, e)) === 'illegal', stop);
    const context = removeWhile(without(all, essential), (k) => this.explains(essential, k), stop);
    return {
      essential: essential.map((i) => this.ops[i]),
      context: context.map((i) => this.ops[i]),
      minimal: this.decisive && !this.meter.spent,
      steps: this.meter.steps - before,
    };
  }

  /** Whether `context` still makes `essential` illegal with every essential op needed. */
  private explains(essential: readonly number[], context: readonly number[]): boolean {
    if (this.verdict(essential, context) !== 'illegal') return false;
    return essential.every((e) => this.verdict(without(essential, [e]), [...context, e]) === 'ok');
  }

  private verdict(essential: readonly number[], context: readonly number[]): Verdict {
    const required = new Set(essential);
    const chosen = [...essential, ...context].sort((a, b) => a - b);
    const ops = chosen.map((i) => this.searchOp(i, required.has(i)));
    const meter = new StepMeter({ maxSteps: STEPS_PER_CHECK }, undefined, this.meter);
    const outcome = searchLinearization(this.model, ops, meter);
    if (outcome.kind === 'unknown') this.decisive = false;
    return outcome.kind;
  }

  private searchOp(i: number, required: boolean): SearchOp<I, O> {
    const op = this.ops[i];
    return { call: op.call, return: op.return, input: op.input, output: required ? op.output : undefined, required };
  }
}

function without(items: readonly number[], removed: readonly number[]): number[] {
  const gone = new Set(removed);
  return items.filter((i) => !gone.has(i));
}

function sameIds<I, O>(a: readonly NormalizedOperation<I, O>[], b: readonly NormalizedOperation<I, O>[]): boolean {
  return a.length === b.length && a.every((op, i) => op.id === b[i].id);
}

/**
 * Shrinks a non-linearizable part (ordered by call time) to a small witness, starting from
 * the operation the search got stuck on. Undefined if the budget ran out before any window
 * was found illegal.
 */
export function shrinkToWitness<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly NormalizedOperation<I, O>[],
  stuck: number,
  budget: Budget,
  now: () => number,
): Witness<I, O> | undefined {
  return new Shrinker(model, ops, budget, now).run(stuck);
}
