import type { KvInput, KvOutput, NormalizedOperation } from '@raftkit/lincheck';

type Op = NormalizedOperation<KvInput, KvOutput>;

/** The value an operation would leave in its key, if it writes one. */
function written(op: Op): string | null | undefined {
  switch (op.input.op) {
    case 'put':
      return op.input.value;
    case 'delete':
      return null;
    case 'cas':
      // A cas seen to fail wrote nothing; an unknown one may have.
      return op.status === 'ok' && !op.output?.ok ? undefined : op.input.value;
    default:
      return undefined;
  }
}

/**
 * Every acknowledged write is present at the end, or superseded: the write that produced a
 * key's final value (unique values identify it; a delete for "absent") must not have finished
 * before any acknowledged write to that key began. Returns the problems found.
 */
export function lostWrites(history: readonly Op[], finalValues: ReadonlyMap<string, string | null>): string[] {
  const problems: string[] = [];
  for (const [key, final] of finalValues) {
    const writes = history.filter((op) => op.status !== 'fail' && op.input.op !== 'range' && op.input.key === key && written(op) !== undefined);
    const acked = writes.filter((op) => op.status === 'ok');
    const producers = writes.filter((op) => written(op) === final);
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
