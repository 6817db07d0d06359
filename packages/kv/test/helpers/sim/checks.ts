import { txnWrites } from './txnGen.js';
import type { SimOp } from './txnModel.js';

/** The values an operation may leave in `key`: none if it does not write it. */
function writtenTo(op: SimOp, key: string): (string | null)[] {
  const input = op.input;
  if (input.op === 'txn') return txnWrites(input, op.status === 'ok' ? op.output?.succeeded : undefined, key);
  if (input.op === 'range' || input.key !== key) return [];
  switch (input.op) {
    case 'put':
      return [input.value];
    case 'delete':
      return [null];
    case 'cas':
      // A cas seen to fail wrote nothing; an unknown one may have.
      return op.status === 'ok' && !op.output?.ok ? [] : [input.value];
    default:
      return [];
  }
}

/**
 * Every acknowledged write is present at the end, or superseded: the write that produced a
 * key's final value (unique values identify it; a delete for "absent") must not have finished
 * before any acknowledged write to that key began. Returns the problems found.
 */
export function lostWrites(history: readonly SimOp[], finalValues: ReadonlyMap<string, string | null>): string[] {
  const problems: string[] = [];
  for (const [key, final] of finalValues) {
    const writes = history.filter((op) => op.status !== 'fail' && writtenTo(op, key).length > 0);
    const acked = writes.filter((op) => op.status === 'ok');
    const producers = writes.filter((op) => writtenTo(op, key).includes(final));
    if (final !== null && producers.length === 0) problems.push(`key ${key} holds ${final}, which no client wrote`);
    if (acked.length === 0) continue;
    // Some producer must be no earlier than every acknowledged write.
    const survives = producers.some((p) => acked.every((w) => w === p || p.return >= w.call));
    if (!survives) {
      const last = acked.reduce((a, b) => (b.return > a.return ? b : a));
      problems.push(`key ${key} ends as ${final ?? 'absent'}, losing acknowledged op #${last.id} (${JSON.stringify(last.input)})`);
    }
  }
  return problems;
}
