/**
 * How an operation ended, as the client saw it.
 * - `ok`: it returned `output`; it took effect exactly once, between `call` and `return`.
 * - `fail`: it definitely did not take effect (e.g. rejected before being proposed).
 * - `unknown`: the client gave up (timeout, crash); it may have taken effect at any time
 *   after `call`, or never, and its output is unconstrained.
 */
export type OpStatus = 'ok' | 'fail' | 'unknown';

/** A client id; only used for display and grouping. */
export type ClientId = string | number;

/** One client operation as recorded. See {@link NormalizedOperation} for the defaults. */
export interface Operation<I, O> {
  /** Unique within the history; defaults to the operation's index in the history array. */
  readonly id?: number;
  readonly clientId: ClientId;
  /** When the client invoked it. Any clock, as long as all clients share it. */
  readonly call: number;
  /** When the client saw the answer; `Infinity` or omitted if it never did. */
  readonly return?: number;
  /** Defaults to `ok` when `return` is finite, else `unknown`. */
  readonly status?: OpStatus;
  readonly input: I;
  /** Required when the status is `ok`; ignored otherwise. */
  readonly output?: O;
}

/** An operation after validation: every field present and consistent. */
export interface NormalizedOperation<I, O> {
  readonly id: number;
  readonly clientId: ClientId;
  readonly call: number;
  /** Invariant: `return >= call`; `return === Infinity` iff `status === 'unknown'`. */
  readonly return: number;
  readonly status: OpStatus;
  readonly input: I;
  /** Invariant: defined iff `status === 'ok'`. */
  readonly output: O | undefined;
}

/**
 * A sequential specification of the object under test.
 *
 * Correctness:
 * - `step` is pure and deterministic: the same state, input and output give the same answer,
 *   and it never mutates `state`.
 * - `step(state, input, undefined)` (an `unknown` operation, whose output was never seen)
 *   must accept and return the state the input leads to, wherever the operation could have
 *   taken effect (it may refuse only where it could not, as the KV model's per-branch copies
 *   of a timed-out txn do where their branch contradicts the compares).
 * - Equal states have equal `hash`es. Without `equal`, the `hash` is taken as canonical:
 *   different states must have different hashes, or the search prunes wrongly. Equal states
 *   are interchangeable: the search prunes a state it has already explored.
 * - `partition` returns sub-histories that share no state: every operation's effect and
 *   output depend only on operations in its own part (Herlihy & Wing 1990, §3.3 locality).
 *   It may drop operations that neither constrain nor change anything.
 */
export interface Model<S, I, O> {
  init(): S;
  /** Applies `input` to `state`; `ok` is false if `output` is impossible from `state`. */
  step(state: S, input: I, output: O | undefined): readonly [ok: boolean, next: S];
  partition?(ops: readonly NormalizedOperation<I, O>[]): NormalizedOperation<I, O>[][];
  /** A key for the state; defaults to `JSON.stringify(state)`. Strings or small ints. */
  hash?(state: S): string | number;
  /** Defaults to comparing `hash`. */
  equal?(a: S, b: S): boolean;
  describeOperation?(input: I, output: O | undefined): string;
  describeState?(state: S): string;
  /** A label for a part, e.g. `key "x"`. */
  describePartition?(ops: readonly NormalizedOperation<I, O>[]): string;
}

/** Limits on a search. Exhausting either yields `unknown`. */
export interface Budget {
  /**
   * Search steps (one per history entry visited). Deterministic, so prefer it in seeded
   * simulations. `checkHistory` defaults to 10,000,000; pass `Infinity` for no limit.
   */
  readonly maxSteps?: number;
  /** Wall-clock limit, measured with `CheckOptions.now`. */
  readonly timeoutMs?: number;
}

export interface CheckOptions extends Budget {
  /** Clock for `timeoutMs`; defaults to `performance.now`. */
  readonly now?: () => number;
  /**
   * Budget for shrinking an illegal part to a minimal witness, or false to skip it.
   * Defaults to `{ maxSteps: 2_000_000 }`.
   */
  readonly shrink?: false | Budget;
}

export type Verdict = 'ok' | 'illegal' | 'unknown';

/** What happened to one part of the history. */
export interface PartitionResult {
  readonly label: string;
  readonly operations: number;
  /** `skipped` once an earlier part was found illegal. */
  readonly result: Verdict | 'skipped';
  readonly steps: number;
}

/**
 * A small sub-history that is still not linearizable. Operations outside it were removed;
 * `context` operations were weakened: each may or may not have taken effect, within its
 * original [call, return] (after its call, if unknown), with any output. Weakening any
 * `essential` operation the same way makes the witness linearizable, and removing any
 * `context` operation makes it linearizable or some essential operation unnecessary.
 *
 * It is searched for among the operations nearest the stuck one, so on a long history a
 * value an essential operation saw may have been written by an operation outside it.
 */
export interface Witness<I, O> {
  readonly essential: readonly NormalizedOperation<I, O>[];
  readonly context: readonly NormalizedOperation<I, O>[];
  /** False if the shrink budget ran out first; the witness is then smaller, not minimal. */
  readonly minimal: boolean;
  readonly steps: number;
}

/** Why a part is not linearizable, for humans and report renderers. */
export interface Violation<I, O> {
  readonly partition: string;
  /** The part's operations (failed ones dropped), ordered by call time. */
  readonly operations: readonly NormalizedOperation<I, O>[];
  /** The longest sequence of operations the search could linearize, in linearization order. */
  readonly longestPrefix: readonly NormalizedOperation<I, O>[];
  /** The model state after `longestPrefix`, described. */
  readonly stateAfterPrefix: string;
  /** The operation that had to come next (its return was reached) but could not. */
  readonly stuck: NormalizedOperation<I, O>;
  readonly witness?: Witness<I, O>;
  /** A text rendering of every operation above, keyed by operation id. */
  readonly descriptions: Readonly<Record<number, string>>;
}

export interface CheckStats {
  readonly operations: number;
  readonly partitions: number;
  readonly steps: number;
  readonly elapsedMs: number;
}

export interface CheckResult<I, O> {
  /** `unknown` means the budget ran out before any part was found illegal. */
  readonly result: Verdict;
  readonly partitions: readonly PartitionResult[];
  /** Present iff `result === 'illegal'`. */
  readonly violation?: Violation<I, O>;
  readonly stats: CheckStats;
}
