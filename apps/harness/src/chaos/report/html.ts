/** Escapes text for HTML and SVG, attributes included. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A run time in seconds, e.g. `12.345 s`; `∞` for an operation that never returned. */
export function secs(ms: number, digits = 3): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(digits)} s` : '∞';
}

/** Cells are HTML, escaped by the caller, so they can hold markup such as `<code>`. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A two-column table of facts: names (plain text) and values (HTML). */
export function keyValues(rows: readonly (readonly [string, string])[]): string {
  const body = rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('\n');
  return `<table class="kv"><tbody>\n${body}\n</tbody></table>`;
}

/** Fill colours per operation kind; shared by the timeline, the legend and the tables. */
export const KIND_COLOR = { get: '#4e79a7', put: '#59a14f', cas: '#f28e2b' } as const;

/** Shading of fault windows by family. */
export const FAULT_COLOR: Readonly<Record<string, string>> = {
  kill: '#e15759',
  'kill-leader': '#e15759',
  'kill-all': '#e15759',
  pause: '#edc948',
  'pause-leader': '#edc948',
  partition: '#b07aa1',
  'isolate-leader': '#b07aa1',
  drop: '#76b7b2',
  'pause-leader-lease': '#edc948',
  'wal-damage': '#9c755f',
  'fd-limit': '#bab0ac',
  'transfer-leader': '#4e9f3d',
  'rolling-restart': '#4e9f3d',
  'replace-node': '#1f77b4',
  'grow-shrink': '#1f77b4',
};

/** Leader lane colours per node: dark, so they do not read as operation kinds. */
/** Darker shades of {@link FAULT_COLOR} for text, which must stay readable on white. */
export const FAULT_TEXT_COLOR: Readonly<Record<string, string>> = {
  kill: '#a61e1e',
  'kill-leader': '#a61e1e',
  'kill-all': '#a61e1e',
  pause: '#856300',
  'pause-leader': '#856300',
  partition: '#763f69',
  'isolate-leader': '#763f69',
  drop: '#2f6f6a',
  'pause-leader-lease': '#856300',
  'wal-damage': '#5e4331',
  'fd-limit': '#5f5955',
  'transfer-leader': '#2e6b22',
  'rolling-restart': '#2e6b22',
  'replace-node': '#134a73',
  'grow-shrink': '#134a73',
};

/** Membership changes on the timeline's members lane. */
export const MEMBERSHIP_COLOR = '#134a73';

export const NODE_COLORS = ['#3d3d6b', '#7a4b2a', '#2f6b5e', '#6b2f4f', '#56562a', '#2a4f6b', '#5e3d7a', '#4d4d4d', '#6b4d2f'];

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #666; }
.verdict { display: inline-block; padding: 6px 14px; border-radius: 6px; font-weight: 700; font-size: 18px; margin: 12px 0; }
.pass { background: #e3f4e1; color: #1e6b1a; border: 1px solid #9fd39a; }
.fail { background: #fde4e4; color: #9b1c1c; border: 1px solid #f0a0a0; }
.warn { background: #fff6d8; color: #7a5b00; border: 1px solid #e8cf7a; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
table.kv th { text-align: left; font-weight: 600; }
.scroll { overflow-x: auto; border: 1px solid #ddd; border-radius: 4px; padding: 4px 0; }
svg text { font: 11px system-ui, sans-serif; }
svg .lane-label { font-weight: 600; fill: #444; }
svg .fault-label { font-size: 10.5px; }
.legend span { display: inline-block; margin-right: 14px; }
.swatch { display: inline-block; width: 14px; height: 10px; vertical-align: middle; margin-right: 4px; border: 1px solid #999; }
code { background: #f4f4f4; padding: 0 3px; border-radius: 3px; }
ul.problems li { color: #9b1c1c; }
`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${CSS}</style></head>
<body>
${body}
</body></html>
`;
}
