import { rangeOf, revisionAdvances, sameEntries, tracksMetadata, write } from './record.js';
import type { KvCompare, KvOutput, KvState, KvTxnInput, KvTxnOp, KvTxnOpOutput } from './types.js';

type Step = readonly [ok: boolean, next: KvState];

/** A compare's truth in `state`, or `undefined` if it needs a revision the model does not know. */
export function holds(state: KvState, c: KvCompare): boolean | undefined {
  const rec = state.get(c.key);
  switch (c.target) {
    case 'exists':
      return (rec !== undefined) === c.exists;
    case 'value': {
      // An absent key equals no value, as in @raftkit/kv's txn.ts.
      const equal = rec !== undefined && rec.value === c.value;
      return c.op === '==' ? equal : !equal;
    }
    default: {
      const actual = rec === undefined ? 0 : rec[c.target];
      if (actual === null) return undefined;
      switch (c.op) {
        case '==':
          return actual === c.value;
        case '!=':
          return actual !== c.value;
        case '<':
          return actual < c.value;
        case '>':
          return actual > c.value;
      }
    }
  }
}

/**
 * Which branch runs: `true` success, `false` failure, `undefined` not decidable (a compare on
 * an unknown revision, with no output or forced branch to say).
 */
function branchOf(state: KvState, input: KvTxnInput, out: KvOutput | undefined): boolean | undefined {
  let decided: boolean | undefined = true;
  for (const c of input.compare) {
    const h = holds(state, c);
    if (h === false) return false;
    if (h === undefined) decided = undefined;
  }
  if (decided !== undefined) return decided;
  if (out?.succeeded !== undefined) return out.succeeded;
  return input.branch === undefined ? undefined : input.branch === 'success';
}

/** A get's reported record fields, each checked if given (0 for an absent key). */
function sawRecord(state: KvState, key: string, r: KvTxnOpOutput): boolean {
  const rec = state.get(key);
  if (r.value !== (rec?.value ?? null)) return false;
  const fields = ['version', 'createRevision', 'modRevision'] as const;
  return fields.every((f) => {
    const actual = rec === undefined ? 0 : rec[f];
    return r[f] === undefined || actual === null || r[f] === actual;
  });
}

/** Runs one op at `revision`; `ok` is false if its reported result is impossible. */
function runOp(state: KvState, op: KvTxnOp, r: KvTxnOpOutput | undefined, revision: number | null, track: boolean): Step {
  switch (op.op) {
    case 'put':
      return [true, write(state, op.key, op.value, revision, track)];
    case 'delete':
      return [r?.deleted === undefined || r.deleted === state.has(op.key), write(state, op.key, null, revision, track)];
    case 'get':
      return [r === undefined || sawRecord(state, op.key, r), state];
    case 'range':
      return [r === undefined || sameEntries(rangeOf(state, op.prefix), r.entries ?? {}), state];
  }
}

const writtenKeys = (ops: readonly KvTxnOp[]): string[] =>
  ops.flatMap((o) => (o.op === 'put' || o.op === 'delete' ? [o.key] : []));

/**
 * Applies a transaction atomically: compares against the state before it, then the chosen
 * branch's ops in order, each seeing the writes before it, all at the reported revision.
 * An undecidable timed-out txn is not applied here: the partition splits it per branch.
 */
export function stepTxn(state: KvState, input: KvTxnInput, out: KvOutput | undefined): Step {
  const succeeded = branchOf(state, input, out);
  if (succeeded === undefined) return [false, state];
  if (input.branch !== undefined && succeeded !== (input.branch === 'success')) return [false, state];
  if (out !== undefined && out.succeeded !== succeeded) return [false, state];
  const ops = succeeded ? input.success : input.failure;
  if (out !== undefined && out.results?.length !== ops.length) return [false, state];
  if (!writtenKeys(ops).every((k) => revisionAdvances(state, k, out?.revision))) return [false, state];
  const revision = out?.revision ?? null;
  const track = tracksMetadata(input);
  let s = state;
  for (let i = 0; i < ops.length; i++) {
    const [ok, next] = runOp(s, ops[i], out?.results?.[i], revision, track);
    if (!ok) return [false, state];
    s = next;
  }
  return [true, s];
}

/** Keys a txn names in compares and ops, and the prefixes its ranges read. */
export function touchedBy(input: KvTxnInput): { keys: string[]; prefixes: string[] } {
  const keys = input.compare.map((c) => c.key);
  const prefixes: string[] = [];
  for (const op of [...input.success, ...input.failure]) {
    if (op.op === 'range') prefixes.push(op.prefix);
    else keys.push(op.key);
  }
  return { keys, prefixes };
}

export const txnWrites = (input: KvTxnInput): boolean =>
  writtenKeys(input.success).length > 0 || writtenKeys(input.failure).length > 0;

const METADATA = ['version', 'createRevision', 'modRevision'] as const;

/** Whether a txn compares, or its output reports, a version or a revision. */
export function txnObservesMetadata(input: KvTxnInput, out: KvOutput | undefined): boolean {
  if (input.compare.some((c) => c.target !== 'exists' && c.target !== 'value')) return true;
  return out?.results?.some((r) => METADATA.some((f) => r[f] !== undefined)) ?? false;
}

/** Whether some compare needs a revision, which the model may not know. */
export const comparesRevisions = (input: KvTxnInput): boolean =>
  input.compare.some((c) => c.target === 'createRevision' || c.target === 'modRevision');

const show = (v: string | null | undefined): string => (v === null ? 'absent' : v === undefined ? '?' : JSON.stringify(v));

function describeCompare(c: KvCompare): string {
  const key = JSON.stringify(c.key);
  if (c.target === 'exists') return `${c.exists ? '' : '!'}exists(${key})`;
  if (c.target === 'value') return `${key} ${c.op} ${show(c.value)}`;
  return `${c.target}(${key}) ${c.op} ${c.value}`;
}

function describeTxnOp(op: KvTxnOp, r: KvTxnOpOutput | undefined): string {
  if (op.op === 'put') return `put(${JSON.stringify(op.key)}, ${show(op.value)})`;
  if (op.op === 'range') return `range(${JSON.stringify(op.prefix)})${r === undefined ? '' : ` → ${JSON.stringify(r.entries ?? {})}`}`;
  const seen = r === undefined ? '' : op.op === 'get' ? ` → ${show(r.value)}` : r.deleted === undefined ? '' : ` → ${String(r.deleted)}`;
  return `${op.op}(${JSON.stringify(op.key)})${seen}`;
}

export function describeTxn(input: KvTxnInput, out: KvOutput | undefined): string {
  const branch = (ops: readonly KvTxnOp[], ran: boolean): string =>
    `[${ops.map((o, i) => describeTxnOp(o, ran ? out?.results?.[i] : undefined)).join(', ')}]`;
  const cond = input.compare.map(describeCompare).join(' && ') || 'true';
  const verdict = out === undefined ? ' → ?' : ` → ${out.succeeded ? 'then' : 'else'}`;
  const forced = input.branch === undefined ? '' : ` (${input.branch === 'success' ? 'then' : 'else'} branch)`;
  return `txn(if ${cond} then ${branch(input.success, out?.succeeded === true)} else ${branch(input.failure, out?.succeeded === false)})${verdict}${forced}`;
}
