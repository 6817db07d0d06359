import type { KvInput, KvOutput, Violation } from '@raftkit/lincheck';
import type { KvOp, OpInfo } from '../types.js';
import { esc, secs, table } from './html.js';
import { renderTimeline } from './timeline.js';

export interface WitnessContext {
  readonly violation: Violation<KvInput, KvOutput>;
  readonly info: ReadonlyMap<number, OpInfo>;
  readonly nodes: readonly string[];
  readonly describe: (op: KvOp) => string;
}

/**
 * The ops a reader should look at: the shrunk witness, plus the operation the search got
 * stuck on (the witness can leave it out: it is one explanation, not necessarily the
 * culprit), or without a witness the stuck op and the last of the linearizable prefix.
 */
function offending(v: Violation<KvInput, KvOutput>): { essential: readonly KvOp[]; context: readonly KvOp[] } {
  if (!v.witness) return { essential: [v.stuck], context: v.longestPrefix.slice(-12) };
  const { essential, context } = v.witness;
  const shown = [...essential, ...context].some((op) => op.id === v.stuck.id);
  return { essential, context: shown ? context : [...context, v.stuck] };
}

function roleOf(op: KvOp, v: Violation<KvInput, KvOutput>, essential: ReadonlySet<number>): string {
  const stuck = op.id === v.stuck.id ? ' · <b>the check got stuck here</b>' : '';
  if (essential.has(op.id)) return `<b>essential</b>${stuck}`;
  if (v.witness && !v.witness.context.some((c) => c.id === op.id)) return `not in the witness${stuck}`;
  return `context (may or may not have happened)${stuck}`;
}

/**
 * The violation: lincheck's smallest non-linearizable sub-history (essential operations
 * must all be as recorded for the contradiction; context operations may or may not have
 * happened), drawn on its own zoomed timeline and listed with run times, so each can be
 * found on the main timeline (where they are outlined in red).
 */
export function renderViolation(c: WitnessContext): string {
  const v = c.violation;
  const { essential, context } = offending(v);
  const ops = [...essential, ...context].sort((a, b) => a.call - b.call);
  const essentialIds = new Set(essential.map((op) => op.id));
  const heading = v.witness
    ? `${v.witness.minimal ? 'Minimal' : 'Smaller (shrink budget ran out)'} non-linearizable sub-history: ${essential.length} essential and ${context.length} context operations`
    : 'The shrinker found no witness; the operation the check got stuck on and the operations before it';
  return [
    `<h2>Violation on ${esc(v.partition)}</h2>`,
    `<p>${esc(heading)}. No order of these operations, each taking effect between its call and its return, explains what the clients saw.`,
    `The check linearized ${v.longestPrefix.length} of ${v.operations.length} operations (leaving state <code>${esc(v.stateAfterPrefix)}</code>) and could not place next <code>#${v.stuck.id} ${esc(c.describe(v.stuck))}</code>.</p>`,
    `<div class="scroll">${miniTimeline(c, ops, essentialIds)}</div>`,
    witnessTable(c, ops, essentialIds),
  ].join('\n');
}

function miniTimeline(c: WitnessContext, ops: readonly KvOp[], essential: ReadonlySet<number>): string {
  const ends = ops.map((op) => (Number.isFinite(op.return) ? op.return : (c.info.get(op.id)?.gaveUpAt ?? op.call + 1000)));
  const from = Math.min(...ops.map((op) => op.call));
  const to = Math.max(...ends, from + 1);
  const span = to - from;
  return renderTimeline({
    id: 'witness',
    ops,
    info: c.info,
    faults: [],
    leaders: [],
    silences: [],
    nodes: c.nodes,
    from: from - span * 0.05,
    to: to + span * 0.3,
    pxPerMs: Math.min(20, 900 / span),
    highlight: essential,
    labelOps: true,
    describe: c.describe,
  });
}

function witnessTable(c: WitnessContext, ops: readonly KvOp[], essential: ReadonlySet<number>): string {
  const rows = ops.map((op) => {
    const info = c.info.get(op.id);
    // Essential and stuck operations are outlined on the main timeline: link to them there.
    const onMain = essential.has(op.id) || op.id === c.violation.stuck.id;
    return [
      onMain ? `<a href="#main-op-${op.id}">#${op.id}</a>` : `#${op.id}`,
      esc(String(op.clientId)),
      `<code>${esc(c.describe(op))}</code>`,
      secs(op.call),
      op.status === 'unknown' ? `∞ (gave up ${secs(info?.gaveUpAt ?? NaN)})` : secs(op.return),
      esc(op.status),
      esc(info?.node ?? '—'),
      roleOf(op, c.violation, essential),
    ];
  });
  return table(['op', 'client', 'operation', 'call', 'return', 'status', 'node', 'role'], rows);
}
