import { kvModel } from '@raftkit/lincheck';
import type { MembershipEvent } from '../membershipFaults.js';
import type { FaultWindow, KvOp, LeaderSpan, NodeSilence, OpInfo } from '../types.js';
import type { Judgement, OutcomeCounts } from '../verdict.js';
import { FAULT_COLOR, KIND_COLOR, esc, keyValues, page, secs, table } from './html.js';
import { renderTimeline } from './timeline.js';
import { renderViolation } from './witness.js';

/** Everything the report shows; times are ms since the run started. */
export interface ReportInput {
  readonly seed: number;
  /** Every node the run started (members come and go with membership faults). */
  readonly nodes: readonly string[];
  /** How many nodes the cluster started with. */
  readonly initialNodes?: number;
  /** Membership changes the faults made (joins, removals, restarts, handovers). */
  readonly membership?: readonly MembershipEvent[];
  readonly clients: number;
  /** Length of the fault phase. */
  readonly durationMs: number;
  /** Wall-clock start, ISO 8601. */
  readonly startedAt: string;
  /** Where the timeline ends (after the final reads). */
  readonly endMs: number;
  /** When every fault was healed, or null if the run never got there. */
  readonly healedAt: number | null;
  readonly history: readonly KvOp[];
  readonly info: ReadonlyMap<number, OpInfo>;
  readonly faults: readonly FaultWindow[];
  readonly leaders: readonly LeaderSpan[];
  /** When each node did not answer the status poller. */
  readonly silences: readonly NodeSilence[];
  readonly leadersSeen: readonly { readonly term: number; readonly node: string }[];
  readonly judgement: Judgement;
}

export const describeOp = (op: KvOp): string => kvModel.describeOperation?.(op.input, op.output) ?? JSON.stringify(op.input);

/** A self-contained HTML page: no scripts, no external assets. */
export function renderReport(r: ReportInput): string {
  const v = r.judgement.check.violation;
  const sections = [
    header(r),
    verdict(r.judgement),
    `<h2>Summary</h2>`,
    counts(r),
    `<h2>Timeline</h2>`,
    legend(),
    `<div class="scroll">${mainTimeline(r)}</div>`,
    v ? renderViolation({ violation: v, info: r.info, nodes: r.nodes, describe: describeOp }) : '',
    lostWrites(r.judgement),
    faultsTable(r.faults),
    membershipTable(r.membership ?? []),
    partsTable(r.judgement),
  ];
  return page(`raftkit chaos — seed ${r.seed}`, sections.join('\n'));
}

function header(r: ReportInput): string {
  const size = r.initialNodes ?? r.nodes.length;
  const started = size === r.nodes.length ? `${size} nodes` : `${size} nodes (${r.nodes.length} over the run)`;
  const meta = `${started} · ${r.clients} clients · ${secs(r.durationMs, 0)} of faults · seed ${r.seed} · started ${r.startedAt}`;
  return `<h1>raftkit chaos run</h1><div class="meta">${esc(meta)} · replay: <code>raftkit-harness chaos --nodes ${size} --clients ${r.clients} --duration-s ${Math.round(r.durationMs / 1000)} --seed ${r.seed}</code></div>`;
}

/** The headline: linearizable or not, lost writes, other problems. */
export function verdictText(j: Judgement): string {
  const lin = j.check.result === 'ok' ? 'linearizable' : j.check.result === 'illegal' ? 'NOT linearizable' : 'linearizability UNDECIDED (check budget ran out)';
  const lost = j.lost.length === 0 ? 'no acknowledged write lost' : `${j.lost.length} acknowledged write${j.lost.length === 1 ? '' : 's'} LOST`;
  return `${lin}, ${lost}`;
}

function verdict(j: Judgement): string {
  const cls = j.passed ? 'pass' : j.check.result === 'unknown' && j.lost.length === 0 ? 'warn' : 'fail';
  const problems = j.problems.length === 0 ? '' : `<ul class="problems">${j.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`;
  return `<div class="verdict ${cls}">${j.passed ? 'PASS' : 'FAIL'}: ${esc(verdictText(j))}</div>${problems}`;
}

function countRow(name: string, c: OutcomeCounts): string[] {
  const total = c.ok + c.unknown + c.failed;
  return [esc(name), String(total), String(c.ok), String(c.unknown), String(c.failed)];
}

function counts(r: ReportInput): string {
  const j = r.judgement;
  const { byKind } = j.counts;
  const ops = table(['operation', 'total', 'ok', 'unknown (outcome lost)', 'failed (surely not applied)'], [
    countRow('get', byKind.get),
    countRow('put', byKind.put),
    countRow('cas', byKind.cas),
    countRow('all', j.counts),
  ]);
  const afterHeal = r.healedAt === null ? 0 : r.history.filter((op) => op.status === 'ok' && op.call >= r.healedAt!).length;
  const leaders = r.leadersSeen.map((l) => `${l.node} (term ${l.term})`).join(', ') || 'none';
  const s = j.check.stats;
  const facts = keyValues([
    ['leaders seen', esc(leaders)],
    ['faults', `${r.faults.length}`],
    ['ok operations after healing', String(afterHeal)],
    ['linearizability check', esc(`${s.operations} operations in ${s.partitions} parts, ${s.steps} steps, ${s.elapsedMs.toFixed(0)} ms`)],
  ]);
  return ops + facts;
}

function legend(): string {
  const kinds = Object.entries(KIND_COLOR).map(([k, c]) => `<span><i class="swatch" style="background:${c}"></i>${k}</span>`);
  const outcomes = [
    `<span><i class="swatch" style="background:${KIND_COLOR.cas};opacity:.45"></i>cas that did not swap</span>`,
    `<span><i class="swatch" style="background:repeating-linear-gradient(45deg,#888 0 3px,#fff 3px 6px)"></i>unknown (open-ended: may take effect any time after its call)</span>`,
    `<span><i class="swatch" style="background:#d8d8d8"></i>failed</span>`,
  ];
  const families = [
    ['kill', 'kill'], ['pause', 'pause'], ['partition', 'partition'], ['drop', 'one-way drop'], ['wal-damage', 'WAL damage'], ['fd-limit', 'low fd limit'],
    ['transfer-leader', 'leader transfer / rolling restart'], ['grow-shrink', 'nodes added or replaced'],
  ];
  const faults = families.map(
    ([k, name]) => `<span><i class="swatch" style="background:${FAULT_COLOR[k!]};opacity:.35"></i>${name}</span>`,
  );
  const hint = '<span>hover a bar for details; witness operations of a violation are outlined in red</span>';
  return `<div class="legend">${[...kinds, ...outcomes, ...faults, hint].join('')}</div>`;
}

function mainTimeline(r: ReportInput): string {
  const v = r.judgement.check.violation;
  const highlight = new Set([...(v?.witness?.essential ?? []), ...(v ? [v.stuck] : [])].map((op) => op.id));
  // Start where something happens: the cluster's start-up is not worth the width.
  const first = [r.history[0]?.call, r.leaders[0]?.start, r.faults[0]?.start].reduce<number>((a, t) => Math.min(a, t ?? a), r.endMs);
  const from = Math.max(0, first - 300);
  return renderTimeline({
    id: 'main',
    ops: r.history,
    info: r.info,
    faults: r.faults,
    leaders: r.leaders,
    silences: r.silences,
    nodes: r.nodes,
    membership: r.membership ?? [],
    from,
    to: r.endMs,
    pxPerMs: scale(r.endMs - from),
    highlight,
    labelOps: false,
    describe: describeOp,
  });
}

/** About 2400 px for the run, but at least 40 px/s so faults stay readable, up to 30 000 px. */
function scale(spanMs: number): number {
  const span = Math.max(1, spanMs);
  return Math.min(0.5, Math.max(Math.min(0.04, 30_000 / span), 2400 / span));
}

function lostWrites(j: Judgement): string {
  if (j.lost.length === 0) {
    return `<h2>Lost writes</h2><p>None: every acknowledged write is the final value of its key or may have been overwritten by a later write.</p>`;
  }
  const rows = j.lost.map((l) => [`#${l.op.id}`, esc(String(l.op.clientId)), `<code>${esc(describeOp(l.op))}</code>`, secs(l.op.call), secs(l.op.return), esc(l.finalValue ?? 'absent')]);
  return `<h2>Lost writes</h2><p>Acknowledged, yet neither the key's final value nor overwritten by any write acknowledged after it was called or left unknown.</p>${table(['op', 'client', 'write', 'call', 'return', 'final value'], rows)}`;
}

function faultsTable(faults: readonly FaultWindow[]): string {
  const rows = faults.map((f, i) => [String(i + 1), esc(f.label), secs(f.start, 2), secs(f.end, 2), secs(f.end - f.start, 2)]);
  return `<h2>Faults</h2>${faults.length === 0 ? '<p>None.</p>' : table(['#', 'fault', 'from', 'to', 'lasted'], rows)}`;
}

function membershipTable(events: readonly MembershipEvent[]): string {
  if (events.length === 0) return '';
  const rows = events.map((e, i) => [String(i + 1), secs(e.at, 2), esc(e.label)]);
  return `<h2>Membership changes</h2>${table(['#', 'at', 'change'], rows)}`;
}

function partsTable(j: Judgement): string {
  const rows = j.check.partitions.map((p) => [esc(p.label), String(p.operations), esc(p.result), String(p.steps)]);
  return `<h2>Check per key</h2>${table(['part', 'operations', 'result', 'steps'], rows)}`;
}
