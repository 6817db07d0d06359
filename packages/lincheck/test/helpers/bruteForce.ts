import type { Model, NormalizedOperation } from '../../src/index.js';

/**
 * Linearizability by exhaustive enumeration, for cross-checking the search on tiny
 * histories: some subset of the unknown operations plus every ok one, in some order that
 * respects real time (a before b whenever a returned before b was called) and the model.
 */
export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly NormalizedOperation<I, O>[]): boolean {
  const ops = history.filter((op) => op.status !== 'fail');
  const optional = ops.filter((op) => op.status === 'unknown');
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const chosen = ops.filter((op) => op.status === 'ok' || (mask & (1 << optional.indexOf(op))) !== 0);
    if (sequence(model, chosen, model.init(), new Set())) return true;
  }
  return false;
}

function sequence<S, I, O>(model: Model<S, I, O>, ops: readonly NormalizedOperation<I, O>[], state: S, used: Set<number>): boolean {
  if (used.size === ops.length) return true;
  for (const op of ops) {
    if (used.has(op.id)) continue;
    // Every operation that returned before this one was called must already be placed.
    if (ops.some((a) => !used.has(a.id) && a !== op && a.return < op.call)) continue;
    const [ok, next] = model.step(state, op.input, op.status === 'ok' ? op.output : undefined);
    if (!ok) continue;
    used.add(op.id);
    const found = sequence(model, ops, next, used);
    used.delete(op.id);
    if (found) return true;
  }
  return false;
}
