import { describeOperation, describePartition, describeState } from './describe.js';
import { byCall, normalizeHistory } from './history.js';
import { defaultNow, StepMeter } from './meter.js';
import { searchLinearization, type SearchOp, type SearchOutcome } from './search.js';
import { shrinkToWitness } from './shrink.js';
import type {
  Budget,
  CheckOptions,
  CheckResult,
  Model,
  NormalizedOperation,
  Operation,
  PartitionResult,
  Verdict,
  Violation,
  Witness,
} from './types.js';

/** Enough for tens of thousands of operations per part; timeouts can need far more. */
const DEFAULT_MAX_STEPS = 10_000_000;
const DEFAULT_SHRINK_BUDGET: Budget = { maxSteps: 2_000_000 };

type Part<I, O> = { readonly label: string; readonly ops: readonly NormalizedOperation<I, O>[] };
type Illegal<S> = Extract<SearchOutcome<S>, { kind: 'illegal' }>;

/** Splits with the model's partition, drops empty parts, smallest first (cheap parts first). */
function partsOf<S, I, O>(model: Model<S, I, O>, ops: NormalizedOperation<I, O>[]): Part<I, O>[] {
  const split = model.partition ? model.partition(ops) : [ops];
  return split
    .filter((part) => part.length > 0)
    .map((part, i) => {
      const sorted = [...part].sort(byCall);
      return { label: describePartition(model, sorted, i), ops: sorted };
    })
    .sort((a, b) => a.ops.length - b.ops.length);
}

function toSearchOp<I, O>(op: NormalizedOperation<I, O>): SearchOp<I, O> {
  // Only ok operations must take effect; unknown ones may, at any time after their call.
  return { call: op.call, return: op.return, input: op.input, output: op.output, required: op.status === 'ok' };
}

function describeAll<I, O>(
  model: Model<unknown, I, O>,
  ops: readonly NormalizedOperation<I, O>[],
): Record<number, string> {
  const out: Record<number, string> = {};
  for (const op of ops) out[op.id] = describeOperation(model, op);
  return out;
}

function explain<S, I, O>(
  model: Model<S, I, O>,
  part: Part<I, O>,
  outcome: Illegal<S>,
  witness: Witness<I, O> | undefined,
): Violation<I, O> {
  return {
    partition: part.label,
    operations: part.ops,
    longestPrefix: outcome.prefix.map((i) => part.ops[i]),
    stateAfterPrefix: describeState(model, outcome.state),
    stuck: part.ops[outcome.stuck],
    ...(witness ? { witness } : {}),
    descriptions: describeAll(model as Model<unknown, I, O>, part.ops),
  };
}

/**
 * Checks that `history` is linearizable with respect to `model`: that every `ok` operation
 * can be given a point between its call and return, and every `unknown` one either a point
 * after its call or none, such that the model accepts the operations in that order.
 * `fail` operations are ignored: they did not take effect.
 *
 * Parts are checked smallest first; the first illegal part stops the check. The budget is
 * shared by all parts; when it runs out, the result is `unknown` unless a part was illegal.
 * @throws LincheckError `LINCHECK_INVALID_HISTORY` if the history is malformed, or
 *   `LINCHECK_INVALID_OPERATION` if the model's partition rejects an operation.
 * @example
 * const result = checkHistory(kvModel, recorder.history(), { maxSteps: 5_000_000 });
 * if (result.result !== 'ok') throw new Error(formatResult(result));
 */
export function checkHistory<S, I, O, H extends I = I>(
  model: Model<S, I, O>,
  history: readonly Operation<H, O>[],
  options: CheckOptions = {},
): CheckResult<H, O> {
  // The result's operations are the history's, typed as such: a model's partition only drops
  // operations or copies them with the same kind of input (as the KV model's txn split does),
  // so a history of plain KV inputs checked by the txn-aware kvModel gets plain KV results.
  return check(model, history, options) as CheckResult<H, O>;
}

function check<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], options: CheckOptions): CheckResult<I, O> {
  const now = options.now ?? defaultNow;
  const started = now();
  const ops = normalizeHistory(history).filter((op) => op.status !== 'fail');
  const parts = partsOf(model, ops);
  const meter = new StepMeter({ maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS, timeoutMs: options.timeoutMs }, now);
  const partitions: PartitionResult[] = [];
  let result: Verdict = 'ok';
  let violation: Violation<I, O> | undefined;
  for (const part of parts) {
    if (violation) {
      partitions.push({ label: part.label, operations: part.ops.length, result: 'skipped', steps: 0 });
      continue;
    }
    const before = meter.steps;
    const outcome = searchLinearization(model, part.ops.map(toSearchOp), meter);
    const steps = meter.steps - before;
    partitions.push({ label: part.label, operations: part.ops.length, result: outcome.kind, steps });
    if (outcome.kind === 'unknown') result = 'unknown';
    if (outcome.kind !== 'illegal') continue;
    result = 'illegal';
    const shrinkBudget = options.shrink ?? DEFAULT_SHRINK_BUDGET;
    const witness = shrinkBudget ? shrinkToWitness(model, part.ops, outcome.stuck, shrinkBudget, now) : undefined;
    violation = explain(model, part, outcome, witness);
  }
  const stats = { operations: ops.length, partitions: parts.length, steps: meter.steps, elapsedMs: now() - started };
  return violation ? { result, partitions, violation, stats } : { result, partitions, stats };
}
