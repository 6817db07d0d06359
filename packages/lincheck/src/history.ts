import { LincheckError, LincheckErrorCode } from './errors.js';
import type { NormalizedOperation, Operation, OpStatus } from './types.js';

function invalid(message: string): never {
  throw new LincheckError(LincheckErrorCode.InvalidHistory, message);
}

function statusOf<I, O>(op: Operation<I, O>, ret: number): OpStatus {
  if (op.status !== undefined) return op.status;
  return Number.isFinite(ret) ? 'ok' : 'unknown';
}

function normalizeOne<I, O>(op: Operation<I, O>, index: number): NormalizedOperation<I, O> {
  const id = op.id ?? index;
  if (!Number.isSafeInteger(id)) invalid(`operation at index ${index} has a non-integer id`);
  if (!Number.isFinite(op.call)) invalid(`operation #${id} has a non-finite call time`);
  const given = op.return ?? Infinity;
  if (Number.isNaN(given) || given < op.call) invalid(`operation #${id} returns before its call`);
  const status = statusOf(op, given);
  if (status !== 'ok' && status !== 'fail' && status !== 'unknown') {
    invalid(`operation #${id} has an invalid status ${String(status)}`);
  }
  if (status === 'ok' && !Number.isFinite(given)) invalid(`ok operation #${id} has no return time`);
  if (status === 'ok' && op.output === undefined) invalid(`ok operation #${id} has no output`);
  return {
    id,
    clientId: op.clientId,
    call: op.call,
    // An unknown operation may take effect at any time after its call: it "returns" at +∞.
    return: status === 'unknown' ? Infinity : given,
    status,
    input: op.input,
    output: status === 'ok' ? op.output : undefined,
  };
}

/**
 * Validates a history and fills in defaults (ids, statuses).
 * @throws LincheckError `LINCHECK_INVALID_HISTORY`
 */
export function normalizeHistory<I, O>(
  history: readonly Operation<I, O>[],
): NormalizedOperation<I, O>[] {
  const ops = history.map((op, index) => normalizeOne(op, index));
  const seen = new Set<number>();
  for (const op of ops) {
    if (seen.has(op.id)) invalid(`duplicate operation id ${op.id}`);
    seen.add(op.id);
  }
  return ops;
}

/** Orders by call time, then id, so results do not depend on recording order. */
export function byCall<I, O>(a: NormalizedOperation<I, O>, b: NormalizedOperation<I, O>): number {
  return a.call - b.call || a.id - b.id;
}
