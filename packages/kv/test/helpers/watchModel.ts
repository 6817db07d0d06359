import type { ChangedRecord, KvChange } from '../../src/changes.js';
import { toStoredValue, type KvValue } from '../../src/values.js';
import type { WatchStream } from '../../src/watch.js';
import type { WatchHub } from '../../src/watchHub.js';

export type Op = { readonly put: string; readonly value: KvValue; readonly lease?: number } | { readonly delete: string };

/**
 * A tiny key space that turns ops into the KvChanges the state machine reports (records with
 * createRevision, version and lease; a delete of an absent key is no change).
 */
export class ChangeModel {
  readonly records = new Map<string, ChangedRecord>();
  /** Every revision that changed something, in order. */
  readonly log: { readonly revision: number; readonly changes: readonly KvChange[] }[] = [];

  changes(revision: number, ops: readonly Op[]): KvChange[] {
    const out: KvChange[] = [];
    for (const op of ops) {
      if ('put' in op) {
        const prev = this.records.get(op.put);
        const record: ChangedRecord = {
          value: toStoredValue(op.value, 1 << 20),
          modRevision: revision,
          createRevision: prev?.createRevision ?? revision,
          version: (prev?.version ?? 0) + 1,
          lease: op.lease ?? 0,
        };
        this.records.set(op.put, record);
        out.push(prev === undefined ? { type: 'put', key: op.put, record } : { type: 'put', key: op.put, record, prev });
      } else {
        const prev = this.records.get(op.delete);
        if (prev === undefined) continue;
        this.records.delete(op.delete);
        out.push({ type: 'delete', key: op.delete, prev });
      }
    }
    if (out.length > 0) this.log.push({ revision, changes: out });
    return out;
  }

  /** Applies `ops` at `revision` to the model and the hub. */
  apply(hub: WatchHub, revision: number, ops: readonly Op[]): KvChange[] {
    const changes = this.changes(revision, ops);
    hub.applied(revision, changes);
    return changes;
  }

  /** [revision, key] of every change matching `match` with from <= revision <= to. */
  expected(match: (key: string) => boolean, from: number, to = Number.MAX_SAFE_INTEGER): [number, string][] {
    const out: [number, string][] = [];
    for (const { revision, changes } of this.log) {
      if (revision < from || revision > to) continue;
      for (const c of changes) if (match(c.key)) out.push([revision, c.key]);
    }
    return out;
  }
}

/** Takes `n` events, each of which must already be available (never waits for a later apply). */
export async function take(w: WatchStream, n: number): Promise<[number, string][]> {
  const out: [number, string][] = [];
  for (let i = 0; i < n; i++) {
    const r = await w.next();
    if (r.done) throw new Error(`watch ended after ${i} of ${n} events`);
    out.push([r.value.revision, r.value.key]);
  }
  return out;
}

/** Settles `p`, returning its error (or throwing if it fulfilled). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
