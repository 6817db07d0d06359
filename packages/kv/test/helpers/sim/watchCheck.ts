import type { KvChange, WatchEvent } from '../../../src/index.js';
import { fromStoredValue } from '../../../src/values.js';
import type { CommittedRevision } from './committedLog.js';
import type { SimWatcher } from './watchers.js';

const show = (v: unknown): string => (v === undefined ? '-' : JSON.stringify(v));

function ofEvent(e: WatchEvent, withPrev: boolean): string {
  const prev = withPrev ? ` prev ${show(e.prevValue)}` : '';
  return `${e.revision} ${e.type} ${e.key}=${show(e.value)} c${e.createRevision} m${e.modRevision} v${e.version} l${e.lease}${prev}`;
}

function ofChange(revision: number, c: KvChange, withPrev: boolean): string {
  const r = c.record;
  const value = r === undefined ? undefined : fromStoredValue(r.value);
  const prev = withPrev ? ` prev ${show(c.prev === undefined ? undefined : fromStoredValue(c.prev.value))}` : '';
  return `${revision} ${c.type} ${c.key}=${show(value)} c${r?.createRevision ?? 0} m${revision} v${r?.version ?? 0} l${r?.lease ?? 0}${prev}`;
}

/** The committed changes `w` must have delivered, up to `last`, outside its accounted gaps. */
export function expectedEvents(w: SimWatcher, revisions: readonly CommittedRevision[], last: number): string[] {
  const inGap = (rev: number): boolean => w.gaps.some(([a, b]) => rev >= a && rev <= b);
  const out: string[] = [];
  for (const { revision, changes } of revisions) {
    if (revision < w.startRevision || revision > last || inGap(revision)) continue;
    for (const c of changes) if (w.matches(c.key)) out.push(ofChange(revision, c, w.prevValue));
  }
  return out;
}

/**
 * Watcher `w` saw exactly the committed changes of its keys from its start revision up to
 * `last`, in revision order, none missing, none twice, with the right records (except in
 * its accounted gaps). Returns the problem, or null.
 */
export function checkWatcher(w: SimWatcher, revisions: readonly CommittedRevision[], last: number): string | null {
  const expected = expectedEvents(w, revisions, last);
  const actual = w.events.filter((e) => e.revision <= last).map((e) => ofEvent(e, w.prevValue));
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    if (expected[i] === actual[i]) continue;
    const what = w.filter.key !== undefined ? `key ${JSON.stringify(w.filter.key)}` : `prefix ${JSON.stringify(w.filter.prefix)}`;
    return (
      `watcher ${w.name} (${what}, from ${w.startRevision}, gaps ${JSON.stringify(w.gaps)}) event #${i}: ` +
      `expected ${expected[i] ?? 'nothing'}, got ${actual[i] ?? 'nothing'} ` +
      `(${expected.length} expected, ${actual.length} delivered; before: ${actual.slice(Math.max(0, i - 2), i).join(' | ') || '-'}; ` +
      `trail: ${w.trail.slice(-12).join(', ')})`
    );
  }
  return null;
}
