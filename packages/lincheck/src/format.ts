import type { CheckResult, NormalizedOperation, PartitionResult, Violation } from './types.js';

export interface FormatOptions {
  /** At most this many operations per list; the rest are summarised. Default 20. */
  readonly maxOps?: number;
}

type AnyOp = NormalizedOperation<unknown, unknown>;

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

const time = (t: number): string => (Number.isFinite(t) ? String(Number(t.toFixed(3))) : '∞');

function line(op: AnyOp, descriptions: Readonly<Record<number, string>>): string {
  const span = op.status === 'unknown' ? `[${time(op.call)}, ∞) unknown` : `[${time(op.call)}, ${time(op.return)}]`;
  return `    #${op.id}  client ${String(op.clientId)}  ${span}  ${descriptions[op.id] ?? ''}`;
}

/** Lists ops; if there are too many, keeps the last `max` (the ones nearest the problem). */
function lines(ops: readonly AnyOp[], v: Violation<unknown, unknown>, max: number): string[] {
  const shown = ops.slice(Math.max(0, ops.length - max));
  const skipped = ops.length - shown.length;
  const summary = skipped > 0 ? [`    … ${count(skipped, 'earlier operation')}`] : [];
  return [...summary, ...shown.map((op) => line(op, v.descriptions))];
}

function witnessLines(v: Violation<unknown, unknown>, max: number): string[] {
  const w = v.witness;
  if (!w) return [];
  const title = w.minimal ? 'minimal witness' : 'smaller witness (shrink budget ran out)';
  const out = [`  ${title}: ${count(w.essential.length, 'essential operation')}`, ...lines(w.essential, v, max)];
  if (w.context.length > 0) {
    out.push(`  context (each may or may not have taken effect, within its interval):`, ...lines(w.context, v, max));
  }
  return out;
}

function violationLines(v: Violation<unknown, unknown>, max: number): string[] {
  return [
    `  longest linearizable prefix: ${v.longestPrefix.length} of ${count(v.operations.length, 'operation')},` +
      ` leaving state ${v.stateAfterPrefix}`,
    ...lines(v.longestPrefix, v, max),
    `  could not linearize next:`,
    line(v.stuck, v.descriptions),
    ...witnessLines(v, max),
  ];
}

function partsSummary(parts: readonly PartitionResult[], verdict: string): string {
  const matching = parts.filter((p) => p.result === verdict).map((p) => p.label);
  const shown = matching.slice(0, 5).join('; ');
  return matching.length > 5 ? `${shown}; and ${matching.length - 5} more` : shown;
}

/** Renders a check result as plain text, e.g. for a test failure message or a log. */
export function formatResult<I, O>(result: CheckResult<I, O>, options: FormatOptions = {}): string {
  const { stats } = result;
  const cost = `${stats.steps} steps, ${stats.elapsedMs.toFixed(1)} ms`;
  const size = `${count(stats.operations, 'operation')} in ${count(stats.partitions, 'part')}`;
  if (result.result === 'ok') return `linearizable: ${size} (${cost})`;
  if (result.result === 'unknown') {
    return `unknown: budget exhausted; ${size} (${cost})\n  unchecked: ${partsSummary(result.partitions, 'unknown')}`;
  }
  const v = result.violation as Violation<unknown, unknown>;
  const header = `NOT linearizable: ${v.partition}; ${size} (${cost})`;
  return [header, ...violationLines(v, options.maxOps ?? 20)].join('\n');
}
