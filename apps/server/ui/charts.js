// The dashboard's drawings, as inline SVG built from data: line charts of the rates and a
// timeline of leaders and roles. No library: a few rectangles, paths and labels.
import { fmtClock, fmtNum, ROLE_COLORS, svg } from './format.js';

const PAD = { left: 48, right: 12, top: 10, bottom: 22 };

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/** Time ticks for [from, to]: about five, on whole 5/10/15/30/60 s... steps. */
function timeTicks(from, to, maxTicks = 6) {
  const span = to - from;
  const steps = [1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 1800e3, 3600e3];
  const step = steps.find((s) => span / s <= maxTicks) ?? 3600e3;
  const out = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

/** Time labels near the right edge end at their tick, so they are not cut off. */
const anchorAt = (x, width) => (x > width - 30 ? 'end' : 'middle');

/**
 * A line chart. `series`: [{ name, color, dashed, points: [[t, v|null]] }]; a null value
 * breaks the line. Returns the SVG element (its data-max says the highest value drawn).
 */
export function lineChart({ series, from, to, unit, width: W = 640, height = 150 }) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  let max = 0;
  for (const s of series) for (const [t, v] of s.points) if (v !== null && t >= from && v > max) max = v;
  const top = niceMax(max);
  const x = (t) => PAD.left + ((t - from) / Math.max(1, to - from)) * plotW;
  const y = (v) => PAD.top + plotH - (v / top) * plotH;
  const root = svg('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart', role: 'img', 'data-max': max });
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    root.append(
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, `${fmtNum(v)}${i === 4 && unit ? ` ${unit}` : ''}`),
    );
  }
  for (const t of timeTicks(from, to, Math.max(2, Math.floor(plotW / 80)))) root.append(svg('text', { x: x(t), y: height - 6, class: 'axis', 'text-anchor': anchorAt(x(t), W) }, fmtClock(t)));
  for (const s of series) {
    let d = '';
    let pen = false;
    for (const [t, v] of s.points) {
      if (t < from || v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    if (d) root.append(svg('path', { d, class: 'line', stroke: s.color, 'stroke-dasharray': s.dashed ? '4 3' : null }, svg('title', {}, s.name)));
  }
  return root;
}

/**
 * The timeline: a top lane of leaders (a coloured band per term, labelled "t3 n1"; grey
 * while no leader is known) and one lane per member with its role over time and, in red,
 * the times this page could not reach it.
 */
export function timeline({ from, to, leaders, lanes, colorOf, width: W = 640 }) {
  const laneH = 22;
  const gap = 6;
  const labelW = 64;
  const height = PAD.top + (lanes.length + 1) * (laneH + gap) + PAD.bottom;
  const plotW = W - labelW - PAD.right;
  const x = (t) => labelW + ((Math.min(Math.max(t, from), to) - from) / Math.max(1, to - from)) * plotW;
  const root = svg('svg', { viewBox: `0 0 ${W} ${height}`, class: 'timeline', role: 'img' });
  const laneY = (i) => PAD.top + i * (laneH + gap);
  root.append(svg('text', { x: 4, y: laneY(0) + 15, class: 'lane-label' }, 'leader'));
  for (const s of leaders) {
    if (s.to < from) continue;
    const w = Math.max(1, x(s.to) - x(s.from));
    const fillColor = s.leader === null ? '#d1d5db' : colorOf(s.leader);
    const label = s.leader === null ? `t${s.term}` : `t${s.term} ${s.leader}`;
    root.append(
      svg('rect', { x: x(s.from), y: laneY(0), width: w, height: laneH, fill: fillColor, class: 'seg', 'data-term': s.term, 'data-leader': s.leader ?? '' },
        svg('title', {}, `term ${s.term}: ${s.leader === null ? 'no leader known' : `${s.leader} leads`} from ${fmtClock(s.from)}`)),
    );
    if (w > label.length * 6.5 + 6) root.append(svg('text', { x: x(s.from) + 4, y: laneY(0) + 15, class: 'seg-label' }, label));
  }
  lanes.forEach((lane, i) => {
    const y0 = laneY(i + 1);
    root.append(svg('text', { x: 4, y: y0 + 15, class: 'lane-label' }, lane.id));
    for (const s of lane.roles) {
      if (s.to < from) continue;
      root.append(svg('rect', { x: x(s.from), y: y0 + 3, width: Math.max(1, x(s.to) - x(s.from)), height: laneH - 6, fill: ROLE_COLORS[s.role] ?? '#e5e7eb', class: 'seg' },
        svg('title', {}, `${lane.id}: ${s.role} in term ${s.term} from ${fmtClock(s.from)}`)));
    }
    for (const u of lane.unreachable) {
      if (u.to < from) continue;
      root.append(svg('rect', { x: x(u.from), y: y0, width: Math.max(2, x(u.to) - x(u.from)), height: laneH, fill: ROLE_COLORS.unreachable, class: 'seg unreachable-seg' },
        svg('title', {}, `${lane.id} unreachable from ${fmtClock(u.from)}`)));
    }
  });
  const axisY = laneY(lanes.length + 1) + 12;
  for (const t of timeTicks(from, to, Math.max(2, Math.floor(plotW / 90)))) root.append(svg('text', { x: x(t), y: axisY, class: 'axis', 'text-anchor': anchorAt(x(t), W) }, fmtClock(t)));
  return root;
}
