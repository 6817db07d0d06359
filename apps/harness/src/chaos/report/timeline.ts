import type { MembershipEvent } from '../membershipFaults.js';
import type { FaultWindow, KvOp, LeaderSpan, NodeSilence, OpInfo } from '../types.js';
import { FAULT_COLOR, FAULT_TEXT_COLOR, KIND_COLOR, MEMBERSHIP_COLOR, NODE_COLORS, esc, secs } from './html.js';

export interface TimelineInput {
  /** Unique per document: prefixes the SVG's pattern ids. */
  readonly id: string;
  readonly ops: readonly KvOp[];
  readonly info: ReadonlyMap<number, OpInfo>;
  readonly faults: readonly FaultWindow[];
  readonly leaders: readonly LeaderSpan[];
  readonly silences: readonly NodeSilence[];
  readonly nodes: readonly string[];
  /** Membership changes (a join, a removal, a handover): a lane of their own, none if empty. */
  readonly membership?: readonly MembershipEvent[];
  /** The time range shown, in run ms. */
  readonly from: number;
  readonly to: number;
  readonly pxPerMs: number;
  /** Operations outlined in red and tagged with their id (a violation's witness). */
  readonly highlight: ReadonlySet<number>;
  /** Write each operation's description next to its bar (for small timelines). */
  readonly labelOps: boolean;
  readonly describe: (op: KvOp) => string;
}

const LEFT = 64;
const RIGHT = 24;
const LABEL_ROW = 14;
const AXIS = 22;
/** How far an unknown operation's open end trails past the moment its client gave up. */
const OPEN_END_PX = 36;

/** Lays out rows top-down and converts times to x. */
class Layout {
  y = 0;
  constructor(readonly input: TimelineInput) {}

  x(t: number): number {
    const clamped = Math.min(Math.max(t, this.input.from), this.input.to);
    return LEFT + (clamped - this.input.from) * this.input.pxPerMs;
  }

  get width(): number {
    return this.x(this.input.to) + RIGHT;
  }
}

/** An SVG timeline: fault windows shaded and labelled, the leader, one lane per client. */
export function renderTimeline(input: TimelineInput): string {
  const l = new Layout(input);
  const labels = faultLabels(l);
  const axisY = l.y;
  l.y += AXIS;
  const top = l.y;
  const nodes = nodeLanes(l);
  const leader = leaderLane(l);
  const members = membershipLane(l);
  const lanes = clientLanes(l);
  const bottom = l.y + 4;
  const bands = input.faults.map((f) => faultBand(l, f, top, bottom)).join('');
  const axis = timeAxis(l, axisY, bottom);
  const body = [defs(input), bands, axis, labels, nodes, leader, members, lanes].join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width.toFixed(0)}" height="${bottom + 4}">${body}</svg>`;
}

function defs(input: TimelineInput): string {
  const patterns = Object.entries(KIND_COLOR).map(
    ([kind, color]) =>
      `<pattern id="${input.id}-hatch-${kind}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
      `<rect width="6" height="6" fill="#fff"/><rect width="3" height="6" fill="${color}"/></pattern>`,
  );
  const fade = `<linearGradient id="${input.id}-fade"><stop offset="0" stop-color="#888" stop-opacity="0.8"/><stop offset="1" stop-color="#888" stop-opacity="0"/></linearGradient>`;
  return `<defs>${patterns.join('')}${fade}</defs>`;
}

/** Fault labels in as many rows as needed so that none overlaps the next. */
function faultLabels(l: Layout): string {
  const rowEnds: number[] = [];
  const out: string[] = [];
  for (const f of [...l.input.faults].sort((a, b) => a.start - b.start)) {
    const x = l.x(f.start);
    const width = f.label.length * 6 + 8;
    let row = rowEnds.findIndex((end) => end <= x);
    if (row < 0) row = rowEnds.push(0) - 1;
    rowEnds[row] = x + width;
    const y = 11 + row * LABEL_ROW;
    out.push(`<text class="fault-label" x="${x + 2}" y="${y}" fill="${FAULT_TEXT_COLOR[f.kind] ?? '#333'}">${esc(f.label)}</text>`);
  }
  l.y = Math.max(1, rowEnds.length) * LABEL_ROW + 4;
  return out.join('\n');
}

function faultBand(l: Layout, f: FaultWindow, top: number, bottom: number): string {
  const x = l.x(f.start);
  const w = Math.max(2, l.x(f.end) - x);
  const color = FAULT_COLOR[f.kind] ?? '#999';
  const title = `${f.label}: ${secs(f.start)} – ${secs(f.end)}`;
  return `<rect x="${x}" y="${top - AXIS}" width="${w}" height="${bottom - top + AXIS}" fill="${color}" fill-opacity="0.16"><title>${esc(title)}</title></rect>`;
}

function timeAxis(l: Layout, y: number, bottom: number): string {
  const { from, to, pxPerMs } = l.input;
  const step = [100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000].find((s) => s * pxPerMs >= 70) ?? 60_000;
  const out = [`<line x1="${LEFT}" x2="${l.x(to)}" y1="${y + AXIS - 4}" y2="${y + AXIS - 4}" stroke="#999"/>`];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const x = l.x(t);
    out.push(`<line x1="${x}" x2="${x}" y1="${y + AXIS - 8}" y2="${bottom}" stroke="#000" stroke-opacity="0.07"/>`);
    out.push(`<text x="${x}" y="${y + 10}" text-anchor="middle" fill="#666">${(t / 1000).toFixed(step < 1000 ? 1 : 0)}s</text>`);
  }
  return out.join('\n');
}

/** One thin lane per node: a line while it answers status polls, a dark bar while not. */
function nodeLanes(l: Layout): string {
  if (l.input.silences.length === 0 && l.input.leaders.length === 0) return '';
  const out: string[] = [];
  for (const node of l.input.nodes) {
    const y = l.y;
    l.y += 12;
    out.push(`<text class="lane-label" x="4" y="${y + 9}" font-size="10">${esc(node)}</text>`);
    out.push(`<line x1="${LEFT}" x2="${l.x(l.input.to)}" y1="${y + 6}" y2="${y + 6}" stroke="#bbb"/>`);
    for (const s of l.input.silences.filter((x) => x.node === node)) {
      const x = l.x(s.start);
      const title = `${node} did not answer ${secs(s.start)} – ${secs(s.end)} (down, starting or paused)`;
      out.push(`<rect x="${x}" y="${y + 2}" width="${Math.max(2, l.x(s.end) - x)}" height="8" fill="#444"><title>${esc(title)}</title></rect>`);
    }
  }
  return out.join('\n');
}

function leaderLane(l: Layout): string {
  if (l.input.leaders.length === 0) return '';
  const y = l.y;
  l.y += 22;
  const out = [`<text class="lane-label" x="4" y="${y + 13}">leader</text>`];
  for (const s of l.input.leaders) {
    const x = l.x(s.start);
    const w = Math.max(2, l.x(s.end) - x);
    const color = NODE_COLORS[l.input.nodes.indexOf(s.node) % NODE_COLORS.length] ?? '#777';
    const text = w > 44 ? `<text x="${x + 3}" y="${y + 13}" fill="#fff">${esc(`${s.node} t${s.term}`)}</text>` : '';
    out.push(`<rect x="${x}" y="${y + 2}" width="${w}" height="16" fill="${color}" rx="2"><title>${esc(`${s.node} leader in term ${s.term}: ${secs(s.start)} – ${secs(s.end)}`)}</title></rect>${text}`);
  }
  return out.join('\n');
}

/** A tick per membership change, its label beside it, in as many rows as keep labels apart. */
function membershipLane(l: Layout): string {
  const events = [...(l.input.membership ?? [])].sort((a, b) => a.at - b.at);
  if (events.length === 0) return '';
  const rowEnds: number[] = [];
  const marks: { x: number; row: number; e: MembershipEvent }[] = [];
  for (const e of events) {
    const x = l.x(e.at);
    let row = rowEnds.findIndex((end) => end <= x);
    if (row < 0) row = rowEnds.push(0) - 1;
    rowEnds[row] = x + e.label.length * 6 + 12;
    marks.push({ x, row, e });
  }
  const y = l.y;
  l.y += rowEnds.length * LABEL_ROW + 6;
  const out = [`<text class="lane-label" x="4" y="${y + 11}">members</text>`];
  for (const { x, row, e } of marks) {
    const ty = y + 11 + row * LABEL_ROW;
    const title = `<title>${esc(`${secs(e.at)}: ${e.label}`)}</title>`;
    out.push(`<path d="M${x.toFixed(1)} ${ty - 8} l4 4 l-4 4 l-4 -4 z" fill="${MEMBERSHIP_COLOR}">${title}</path>`);
    out.push(`<text x="${(x + 6).toFixed(1)}" y="${ty}" fill="${MEMBERSHIP_COLOR}" font-size="10.5">${esc(e.label)}</text>`);
  }
  return out.join('\n');
}

/** Clients in natural order (c2 before c10), the final reads last. */
function laneOrder(ops: readonly KvOp[]): string[] {
  const ids = [...new Set(ops.map((op) => String(op.clientId)))];
  return ids.sort((a, b) => (a === 'final' ? 1 : b === 'final' ? -1 : a.localeCompare(b, 'en', { numeric: true })));
}

function clientLanes(l: Layout): string {
  const height = l.input.labelOps ? 36 : 16;
  const byClient = new Map<string, KvOp[]>();
  for (const op of l.input.ops) {
    const lane = byClient.get(String(op.clientId));
    if (lane) lane.push(op);
    else byClient.set(String(op.clientId), [op]);
  }
  const out: string[] = [];
  for (const client of laneOrder(l.input.ops)) {
    const y = l.y;
    l.y += height + 4;
    out.push(`<text class="lane-label" x="4" y="${y + height - 4}">${esc(client)}</text>`);
    out.push(`<line x1="${LEFT}" x2="${l.x(l.input.to)}" y1="${y + height + 2}" y2="${y + height + 2}" stroke="#eee"/>`);
    for (const op of byClient.get(client) ?? []) out.push(opBar(l, op, y + height - 12));
  }
  return out.join('\n');
}

function opBar(l: Layout, op: KvOp, y: number): string {
  const kind = op.input.op as keyof typeof KIND_COLOR;
  const color = KIND_COLOR[kind] ?? '#777';
  const info = l.input.info.get(op.id);
  const x = l.x(op.call);
  const end = op.status === 'unknown' ? (info?.gaveUpAt ?? op.call + 1000) : op.return;
  const w = Math.max(1.5, l.x(end) - x);
  const marked = l.input.highlight.has(op.id);
  // Inline attributes, not CSS, so the SVG stays right when copied out of the page.
  const outline = marked ? ` id="${l.input.id}-op-${op.id}" class="witness" stroke="#c00" stroke-width="1.6"` : '';
  const title = `<title>${esc(tooltip(op, info, l.input.describe(op)))}</title>`;
  const parts = [`<rect${outline} x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="10" ${fillOf(l, op, color, marked)}>${title}</rect>`];
  if (op.status === 'unknown') {
    parts.push(`<rect x="${(x + w).toFixed(1)}" y="${y + 3}" width="${OPEN_END_PX}" height="4" fill="url(#${l.input.id}-fade)"/>`);
  }
  const label = l.input.labelOps ? `#${op.id} ${l.input.describe(op)}` : marked ? `#${op.id}` : '';
  if (label) parts.push(`<text x="${x.toFixed(1)}" y="${y - 2}" fill="${marked ? '#c00' : '#333'}">${esc(label)}</text>`);
  return parts.join('');
}

/** ok: solid; a cas that did not swap: pale; failed: grey; unknown: hatched. */
function fillOf(l: Layout, op: KvOp, color: string, outlined: boolean): string {
  const stroke = (c: string) => (outlined ? '' : ` stroke="${c}" stroke-width="0.8"`);
  if (op.status === 'unknown') return `fill="url(#${l.input.id}-hatch-${op.input.op})"${stroke(color)}`;
  if (op.status === 'fail') return `fill="#d8d8d8"${stroke('#999')}`;
  if (op.input.op === 'cas' && op.output?.ok === false) return `fill="${color}" fill-opacity="0.45"`;
  return `fill="${color}"`;
}

function tooltip(op: KvOp, info: OpInfo | undefined, description: string): string {
  const span = op.status === 'unknown' ? `${secs(op.call)} – ? (gave up ${secs(info?.gaveUpAt ?? NaN)})` : `${secs(op.call)} – ${secs(op.return)}`;
  const via = info?.node ? ` via ${info.node}` : '';
  const attempts = info && info.attempts > 1 ? `, ${info.attempts} requests` : '';
  const note = info?.note ? `\n${info.note}` : '';
  return `#${op.id} ${String(op.clientId)} ${description} [${op.status}] ${span}${via}${attempts}${note}`;
}
