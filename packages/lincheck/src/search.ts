import { LinearizedSet } from './bitset.js';
import { buildEntries, lift, unlift, type EntryNode, type Timed } from './entries.js';
import { invariant } from './errors.js';
import type { StepMeter } from './meter.js';
import { StateCache } from './stateCache.js';
import type { Model } from './types.js';

/** An operation as the search sees it. */
export interface SearchOp<I, O> extends Timed {
  readonly input: I;
  /** `undefined` when the output is unconstrained (unknown or weakened operations). */
  readonly output: O | undefined;
  /**
   * Required operations take effect exactly once within [call, return]. Optional ones may
   * take effect once within that window (never returning: any time after the call) or not
   * at all.
   */
  readonly required: boolean;
}

export type SearchOutcome<S> =
  | { readonly kind: 'ok' }
  | { readonly kind: 'unknown' }
  | {
      readonly kind: 'illegal';
      /** Indices of the deepest linearization reached, in order. */
      readonly prefix: readonly number[];
      /** Index of the required operation whose return was reached unlinearized. */
      readonly stuck: number;
      /** The model state after `prefix`. */
      readonly state: S;
    };

/** The linearization so far as a persistent list, so a dead end is recorded in O(1). */
interface Path {
  readonly op: number;
  readonly length: number;
  readonly before: Path | null;
}

/** A choice on the DFS stack: an operation linearized (applied) or given up (expired). */
interface Frame<S> {
  readonly call: EntryNode;
  /** The state before the choice, restored on backtrack. */
  readonly state: S;
  /** The path before the choice. */
  readonly path: Path | null;
  readonly applied: boolean;
  /** The walk's position when it made the choice, restored on backtrack. */
  readonly optionalPass: boolean;
  readonly levelEnd: EntryNode | null;
}

interface DeadEnd<S> {
  readonly path: Path | null;
  readonly stuck: number;
  readonly state: S;
}

function toArray(path: Path | null): number[] {
  const ops: number[] = [];
  for (let p = path; p; p = p.before) ops.push(p.op);
  return ops.reverse();
}

/**
 * Decides whether `ops` is linearizable with respect to `model`: the Wing & Gong (1993) DFS
 * over a time-ordered event list, with Lowe's (2017) cache of visited configurations, as
 * popularised by Porcupine. Iterative, so its depth is bounded by the heap.
 *
 * Each level of the DFS considers the calls before the first return as the next operation to
 * linearize: first the required ones, in call order; then the optional ones, latest call
 * first. Applying optional operations late and few keeps the configurations that apply fewer
 * of them ahead of those that apply more, which they then prune (see {@link StateCache}):
 * long-pending optional operations are usually the ones nothing needs.
 */
export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly SearchOp<I, O>[],
  meter: StepMeter,
): SearchOutcome<S> {
  return new Search(model, ops, meter).run();
}

const NONE = new Uint32Array(0);

class Search<S, I, O> {
  private readonly head: EntryNode;
  /** Per operation: whether it is optional and never returns, and its index in its set. */
  private readonly unbounded: boolean[];
  private readonly slot: number[];
  /** Operations applied or given up, except never-returning optional ones. */
  private readonly settled: LinearizedSet;
  /** Never-returning optional operations applied. */
  private readonly optional: LinearizedSet;
  private readonly hasUnbounded: boolean;
  private readonly cache: StateCache<S>;
  private readonly stack: Frame<S>[] = [];
  private state: S;
  /** Invariant: the number of required operations not in `settled`. */
  private remaining: number;
  /** Invariant: the number of optional operations neither settled nor applied. */
  private remainingOptional: number;
  /** Invariant: the operations of the `applied` frames on `stack`, in order. */
  private path: Path | null = null;
  /** Whether the walk is in the optional pass, going backwards from `levelEnd`. */
  private optionalPass = false;
  /** The level's first return; set during the optional pass. */
  private levelEnd: EntryNode | null = null;
  private best: DeadEnd<S> | null = null;
  /** Set when backtracking finds the stack empty: every choice was tried. */
  private exhausted = false;

  constructor(
    private readonly model: Model<S, I, O>,
    private readonly ops: readonly SearchOp<I, O>[],
    private readonly meter: StepMeter,
  ) {
    this.head = buildEntries(ops);
    this.unbounded = ops.map((op) => !op.required && op.return === Infinity);
    const counts = [0, 0];
    this.slot = this.unbounded.map((u) => counts[u ? 1 : 0]++);
    this.settled = new LinearizedSet(counts[0]);
    this.optional = new LinearizedSet(counts[1]);
    this.hasUnbounded = counts[1] > 0;
    this.cache = new StateCache(model as Model<S, unknown, unknown>);
    this.state = model.init();
    this.remaining = ops.filter((op) => op.required).length;
    this.remainingOptional = ops.length - this.remaining;
  }

  run(): SearchOutcome<S> {
    let entry = this.head.next;
    while (this.remaining > 0) {
      if (!this.meter.tick()) return { kind: 'unknown' };
      // A required operation is still in the list, and the walk meets its return first.
      invariant(entry !== null, 'search walked past every return');
      entry = this.optionalPass ? this.visitBackwards(entry) : this.visitForwards(entry);
      if (this.exhausted) return this.illegal();
    }
    return { kind: 'ok' };
  }

  /** The required pass: calls in order, up to the first return. */
  private visitForwards(entry: EntryNode): EntryNode | null {
    if (entry.isCall) return this.ops[entry.op].required ? this.tryApply(entry) : entry.next;
    if (this.remainingOptional === 0) return this.atReturn(entry);
    this.optionalPass = true;
    this.levelEnd = entry;
    return entry.prev;
  }

  /** The optional pass: calls backwards from the first return, down to the head. */
  private visitBackwards(entry: EntryNode): EntryNode | null {
    if (entry === this.head) return this.atReturn(this.levelEnd!);
    return this.ops[entry.op].required ? entry.prev : this.tryApply(entry);
  }

  /** Tries to linearize the operation now; returns where the walk continues. */
  private tryApply(call: EntryNode): EntryNode | null {
    const op = this.ops[call.op];
    const [ok, next] = this.model.step(this.state, op.input, op.output);
    if (!ok || !this.firstVisit(call.op, next)) return this.optionalPass ? call.prev : call.next;
    this.push(call, true);
    this.state = next;
    return this.head.next;
  }

  /**
   * Every call before this return was tried. An optional operation can still be given up;
   * a required one cannot, so the search backtracks.
   */
  private atReturn(ret: EntryNode): EntryNode | null {
    const call = ret.match!;
    const required = this.ops[call.op].required;
    if (!required && this.firstVisit(call.op, this.state)) {
      this.push(call, false);
      return this.head.next;
    }
    if (required) this.recordDeadEnd(call.op);
    return this.backtrack();
  }

  /** Whether the configuration with `op` settled or applied and `state` is new. */
  private firstVisit(op: number, state: S): boolean {
    this.include(op);
    const optional = this.hasUnbounded ? this.optional.bits() : NONE;
    const fresh = this.cache.add(this.settled.key(), optional, state);
    this.exclude(op);
    return fresh;
  }

  private include(op: number): void {
    (this.unbounded[op] ? this.optional : this.settled).add(this.slot[op]);
  }

  private exclude(op: number): void {
    (this.unbounded[op] ? this.optional : this.settled).remove(this.slot[op]);
  }

  private push(call: EntryNode, applied: boolean): void {
    const { state, path, optionalPass, levelEnd } = this;
    this.stack.push({ call, state, path, applied, optionalPass, levelEnd });
    this.include(call.op);
    lift(call);
    if (applied) this.path = { op: call.op, length: (path?.length ?? 0) + 1, before: path };
    if (this.ops[call.op].required) this.remaining--;
    else this.remainingOptional--;
    this.optionalPass = false;
  }

  /** Undoes choices until one can be replaced by trying a later call. */
  private backtrack(): EntryNode | null {
    for (;;) {
      const frame = this.stack.pop();
      if (!frame) {
        this.exhausted = true;
        return null;
      }
      this.exclude(frame.call.op);
      this.state = frame.state;
      this.path = frame.path;
      this.optionalPass = frame.optionalPass;
      this.levelEnd = frame.levelEnd;
      unlift(frame.call);
      if (this.ops[frame.call.op].required) this.remaining++;
      else this.remainingOptional++;
      if (frame.applied) return frame.optionalPass ? frame.call.prev : frame.call.next;
    }
  }

  private recordDeadEnd(stuck: number): void {
    const length = (p: Path | null): number => p?.length ?? 0;
    if (this.best && length(this.best.path) >= length(this.path)) return;
    this.best = { path: this.path, stuck, state: this.state };
  }

  private illegal(): SearchOutcome<S> {
    // The first dead end is always at a required return: a cache hit needs an earlier one.
    invariant(this.best !== null, 'illegal history without a dead end');
    const { path, stuck, state } = this.best;
    return { kind: 'illegal', prefix: toArray(path), stuck, state };
  }
}
