import type { AppliedEntry } from '@raftkit/core';
import { decodeCommand, KvStateMachine, type KvCommandResult, type KvStateMachineOptions } from '../../../src/index.js';

const WRITES: ReadonlySet<string> = new Set(['put', 'delete', 'cas', 'putMany', 'txn', 'leaseGrant', 'leaseRevoke']);

/** What every replica's machines share: results by index, and what went wrong. */
export interface Audit {
  readonly violations: string[];
  /** Fingerprint of the result each index produced, on whichever replica applied it first. */
  readonly resultAt: Map<number, string>;
  /** Every applied entry by index, as the first replica to apply it saw it: the committed log. */
  readonly entries: Map<number, AppliedEntry>;
}

export const newAudit = (): Audit => ({ violations: [], resultAt: new Map(), entries: new Map() });

const bytesAsHex = (_k: string, v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);

/** Also sorts object keys: a result decoded from a session cache may build them in another order. */
const canonical = (_k: string, v: unknown): unknown => {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
};

/** Canonical: bytes as hex; a txn's nested results with their keys sorted (the only nesting). */
export const fingerprint = (r: KvCommandResult): string => JSON.stringify(r, r.type === 'txn' ? canonical : bytesAsHex);

/**
 * A KvStateMachine that checks, on every apply:
 * - state machine safety: every replica (and every restart of one) gets the same result for
 *   the same index, so none diverged;
 * - exactly-once: within one machine instance, no (clientId, seq) runs twice. A run is a
 *   write result whose revision is the entry's own index; a replayed duplicate carries the
 *   original's.
 */
export class AuditedMachine extends KvStateMachine {
  private readonly ran = new Set<string>();

  constructor(
    private readonly audit: Audit,
    options?: KvStateMachineOptions,
  ) {
    super(options);
  }

  override apply(entry: AppliedEntry): KvCommandResult {
    const result = super.apply(entry);
    const fp = fingerprint(result);
    const seen = this.audit.resultAt.get(entry.index);
    if (seen === undefined) {
      this.audit.resultAt.set(entry.index, fp);
      this.audit.entries.set(entry.index, { index: entry.index, term: entry.term, data: entry.data.slice() });
    }
    else if (seen !== fp) this.audit.violations.push(`replicas diverged at index ${entry.index}: ${seen} vs ${fp}`);
    if (WRITES.has(result.type) && result.revision === entry.index) this.checkOnce(entry);
    return result;
  }

  private checkOnce(entry: AppliedEntry): void {
    const cmd = decodeCommand(entry.data);
    if (cmd.type !== 'write' || cmd.session === null) return;
    const key = `${cmd.session.clientId}:${cmd.session.seq}`;
    if (this.ran.has(key)) this.audit.violations.push(`write ${key} ran twice, again at index ${entry.index}`);
    this.ran.add(key);
  }
}
