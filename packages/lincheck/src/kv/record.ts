import type { KvModelInput, KvRecord, KvState } from './types.js';

/**
 * Inputs (copies the partition made) of a part where nothing observes versions or revisions.
 * Their writes leave version 1, so states that differ only in what nobody sees are one state
 * and the search prunes them as before versions were modelled.
 */
const untracked = new WeakSet<KvModelInput>();

export const tracksMetadata = (input: KvModelInput): boolean => !untracked.has(input);

export function untrackedCopy(input: KvModelInput): KvModelInput {
  const copy = { ...input };
  untracked.add(copy);
  return copy;
}

/**
 * Sets `key` to `value` (`null`: deletes it) at `revision` (`null`: not known), as
 * `@raftkit/kv`'s key space does: version 1 on creation, +1 per write after (unless `track`
 * is false); the creating write's revision is the createRevision. Returns a new state;
 * `state` is never mutated.
 */
export function write(state: KvState, key: string, value: string | null, revision: number | null, track = true): KvState {
  const next = new Map(state);
  if (value === null) {
    next.delete(key);
    return next;
  }
  const old = state.get(key);
  const record: KvRecord =
    old === undefined
      ? { value, version: 1, createRevision: revision, modRevision: revision }
      : { value, version: track ? old.version + 1 : 1, createRevision: old.createRevision, modRevision: revision };
  next.set(key, record);
  return next;
}

/** Revisions grow along the log: a write reporting one must come after the key's last write. */
export function revisionAdvances(state: KvState, key: string, revision: number | undefined): boolean {
  const last = state.get(key)?.modRevision;
  return revision === undefined || last === undefined || last === null || revision > last;
}

export const valueOf = (state: KvState, key: string): string | null => state.get(key)?.value ?? null;

/** Canonical: equal states, and only those, have equal keys. */
export function hashState(state: KvState): string {
  if (state.size === 0) return '[]';
  const parts: (string | number | null)[] = [];
  for (const [key, r] of sortedRecords(state)) parts.push(key, r.value, r.version, r.createRevision, r.modRevision);
  return JSON.stringify(parts);
}

export function sortedRecords(state: KvState): [string, KvRecord][] {
  const entries = [...state];
  return entries.length < 2 ? entries : entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Values; a key with known revisions shows its whole record. */
export function describeKvState(state: KvState): string {
  const shown: Record<string, unknown> = {};
  for (const [key, r] of sortedRecords(state)) {
    const plain = r.createRevision === null && r.modRevision === null;
    shown[key] = plain ? r.value : { value: r.value, version: r.version, createRevision: r.createRevision, modRevision: r.modRevision };
  }
  return JSON.stringify(shown);
}

/** The keys with `prefix` and their values. */
export function rangeOf(state: KvState, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, r] of state) if (k.startsWith(prefix)) out.set(k, r.value);
  return out;
}

/** Order-insensitive: the same keys with the same values. */
export function sameEntries(actual: ReadonlyMap<string, string>, seen: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(seen);
  return keys.length === actual.size && keys.every((k) => actual.get(k) === seen[k]);
}
