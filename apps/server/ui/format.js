// Small helpers shared by the dashboard's modules: DOM building, number and time formats,
// one stable colour per node.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An HTML element with attributes and children (strings become text nodes, never HTML). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  return e;
}

/** An SVG element with attributes and children. */
export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  setAttrs(e, attrs);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || (v === false && !k.startsWith('data-'))) continue;
    if (k === 'text') e.textContent = String(v);
    // data-* attributes keep "true" (the tests and CSS read them); others are HTML booleans.
    else e.setAttribute(k, v === true && !k.startsWith('data-') ? '' : String(v));
  }
}

/** Replaces the children of the element with id `id`. */
export function fill(id, ...children) {
  const e = document.getElementById(id);
  if (e) e.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

export function fmtInt(n) {
  return n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US');
}

export function fmtNum(n, digits = 1) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits).replace(/\.0+$/, '');
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 10 ? 0 : 1)} ${units[i]}`;
}

/** "4 s", "2 min 5 s", "1 h 3 min". */
export function fmtDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Local wall-clock time, HH:MM:SS. */
export function fmtClock(at) {
  const d = new Date(at);
  const two = (x) => String(x).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

const PALETTE = ['#2563eb', '#d97706', '#7c3aed', '#0d9488', '#db2777', '#65a30d', '#0891b2', '#9333ea', '#ea580c', '#4f46e5'];

/** One colour per node id, stable while the set of ids is (sorted order). */
export function colorOf(id, ids) {
  const i = [...ids].sort().indexOf(id);
  return PALETTE[(i < 0 ? hash(id) : i) % PALETTE.length];
}

function hash(s) {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

export const ROLE_COLORS = {
  leader: '#15803d',
  follower: '#93c5fd',
  candidate: '#f59e0b',
  'pre-candidate': '#fcd34d',
  unreachable: '#dc2626',
};
