import { checkHistory, kvModel, type CheckResult, type KvInput, type KvOutput } from '@raftkit/lincheck';
import type { KvOp, LostWrite } from './types.js';

export type OpKind = 'get' | 'put' | 'cas';

export interface OutcomeCounts {
  ok: number;
  unknown: number;
  failed: number;
}

export interface OpCounts extends OutcomeCounts {
  readonly total: number;
  readonly byKind: Readonly<Record<OpKind, OutcomeCounts>>;
}

export interface Judgement {
  readonly check: CheckResult<KvInput, KvOutput>;
  readonly lost: readonly LostWrite[];
  readonly counts: OpCounts;
  /** Other findings that fail the run: crashes, no leader after healing, failed final reads. */
  readonly problems: readonly string[];
  readonly passed: boolean;
}

/** The value an acknowledged operation wrote, if it wrote one. */
function writtenValue(op: KvOp): string | null {
  if (op.status !== 'ok') return null;
  if (op.input.op === 'put') return op.input.value;
  if (op.input.op === 'cas' && op.output?.ok === true) return op.input.value;
  return null;
}

/** Whether `op` may have written `key` (acknowledged, or unknown and so maybe). */
function mayWrite(op: KvOp, key: string): boolean {
  if (op.input.op !== 'put' && op.input.op !== 'cas') return false;
  if (op.input.key !== key) return false;
  return op.status === 'unknown' || writtenValue(op) !== null;
}

/**
 * Acknowledged writes that vanished: the value is not the key's final value, and no other
 * write that may have taken effect after it exists: none acknowledged after it was called,
 * and no unknown one (which may take effect at any time). Lincheck, given the final reads,
 * proves the same and more; this names the writes plainly.
 */
export function findLostWrites(history: readonly KvOp[], finalClient: string): LostWrite[] {
  const finals = new Map<string, string | null>();
  for (const op of history) {
    if (op.clientId === finalClient && op.status === 'ok' && op.input.op === 'get') finals.set(op.input.key, op.output?.value ?? null);
  }
  const lost: LostWrite[] = [];
  for (const op of history) {
    const value = writtenValue(op);
    if (value === null || op.input.op === 'get' || op.input.op === 'range') continue;
    const key = op.input.key;
    if (!finals.has(key) || finals.get(key) === value) continue;
    const overwritten = history.some((o) => o !== op && mayWrite(o, key) && (o.status === 'unknown' || o.return > op.call));
    if (!overwritten) lost.push({ op, key, value, finalValue: finals.get(key) ?? null });
  }
  return lost;
}

export function countOps(history: readonly KvOp[]): OpCounts {
  const zero = (): OutcomeCounts => ({ ok: 0, unknown: 0, failed: 0 });
  const byKind: Record<OpKind, OutcomeCounts> = { get: zero(), put: zero(), cas: zero() };
  const all = zero();
  for (const op of history) {
    const field = op.status === 'fail' ? 'failed' : op.status;
    all[field]++;
    if (op.input.op in byKind) byKind[op.input.op as OpKind][field]++;
  }
  return { ...all, total: history.length, byKind };
}

/** Checks the history and adds up the run's verdict. */
export function judge(history: readonly KvOp[], finalClient: string, maxSteps: number, problems: readonly string[]): Judgement {
  const check = checkHistory(kvModel, history, { maxSteps });
  const lost = findLostWrites(history, finalClient);
  const passed = check.result === 'ok' && lost.length === 0 && problems.length === 0;
  return { check, lost, counts: countOps(history), problems, passed };
}
