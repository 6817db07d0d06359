import { kvModel, type KvInput, type KvOutput, type KvState, type Model, type NormalizedOperation } from '@raftkit/lincheck';

/**
 * lincheck's KV model has no transactions yet, so the simulation extends it here: a `txn`
 * input (compares on value and existence; revisions are not modelled, the state is
 * key -> string) run like kv's command kind 8. Everything else goes to `kvModel`.
 */
export type ModelCompare =
  | { readonly key: string; readonly target: 'exists'; readonly exists: boolean }
  | { readonly key: string; readonly target: 'value'; readonly op: '==' | '!='; readonly value: string };

export type ModelTxnOp =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'range'; readonly prefix: string };

export interface TxnInput {
  readonly op: 'txn';
  readonly compare: readonly ModelCompare[];
  readonly success: readonly ModelTxnOp[];
  readonly failure: readonly ModelTxnOp[];
}

/** One op's outcome: get `{ value }`, delete `{ deleted }`, range `{ entries }`, put `{}`. */
export interface TxnOpOutput {
  readonly value?: string | null;
  readonly deleted?: boolean;
  readonly entries?: Readonly<Record<string, string>>;
}

export type SimInput = KvInput | TxnInput;
export type SimOutput = KvOutput & { readonly succeeded?: boolean; readonly results?: readonly TxnOpOutput[] };
export type SimOp = NormalizedOperation<SimInput, SimOutput>;

type Step = readonly [ok: boolean, next: KvState];

function withValue(state: KvState, key: string, value: string | null): KvState {
  const next = new Map(state);
  if (value === null) next.delete(key);
  else next.set(key, value);
  return next;
}

function sameRange(state: KvState, prefix: string, seen: Readonly<Record<string, string>> | undefined): boolean {
  const actual = [...state].filter(([k]) => k.startsWith(prefix));
  const keys = Object.keys(seen ?? {});
  return keys.length === actual.length && actual.every(([k, v]) => seen?.[k] === v);
}

function holds(state: KvState, c: ModelCompare): boolean {
  const current = state.get(c.key);
  if (c.target === 'exists') return (current !== undefined) === c.exists;
  // An absent key equals no value: '==' false, '!=' true (design, "Transactions").
  return c.op === '==' ? current === c.value : current !== c.value;
}

/** Runs the branch the compares pick; a get/range sees the writes of earlier ops. */
function stepTxn(state: KvState, input: TxnInput, out: SimOutput | undefined): Step {
  const succeeded = input.compare.every((c) => holds(state, c));
  if (out !== undefined && out.succeeded !== succeeded) return [false, state];
  const ops = succeeded ? input.success : input.failure;
  if (out !== undefined && out.results?.length !== ops.length) return [false, state];
  let s = state;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const r = out?.results?.[i];
    switch (op.op) {
      case 'put':
        s = withValue(s, op.key, op.value);
        break;
      case 'delete':
        if (r !== undefined && r.deleted !== s.has(op.key)) return [false, state];
        s = withValue(s, op.key, null);
        break;
      case 'get':
        if (r !== undefined && r.value !== (s.get(op.key) ?? null)) return [false, state];
        break;
      case 'range':
        if (r !== undefined && !sameRange(s, op.prefix, r.entries)) return [false, state];
        break;
    }
  }
  return [true, s];
}

const isTxn = (op: SimOp): op is NormalizedOperation<TxnInput, SimOutput> => op.input.op === 'txn';

/** Keys a txn names (compares and ops) and the prefixes its ranges read. */
function touched(input: TxnInput): { keys: string[]; prefixes: string[] } {
  const keys = input.compare.map((c) => c.key);
  const prefixes: string[] = [];
  for (const op of [...input.success, ...input.failure]) {
    if (op.op === 'range') prefixes.push(op.prefix);
    else keys.push(op.key);
  }
  return { keys, prefixes };
}

function groupsOf({ input }: SimOp): { keys: string[]; prefixes: string[] } {
  if (input.op === 'txn') return touched(input);
  return input.op === 'range' ? { keys: [], prefixes: [input.prefix] } : { keys: [input.key], prefixes: [] };
}

const writes = (input: TxnInput): boolean => [...input.success, ...input.failure].some((o) => o.op === 'put' || o.op === 'delete');

/**
 * Groups keys that some range or txn reads or writes together (union-find), so parts share
 * no state. A part without txns goes to kvModel's own partition (which prunes timed-out
 * writes nobody observed); a part with txns is checked whole, minus reads nobody saw.
 */
function partitionSim(ops: readonly SimOp[]): SimOp[][] {
  if (!ops.some(isTxn)) return kvModel.partition!(ops as NormalizedOperation<KvInput, KvOutput>[]) as SimOp[][];
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    while (parent.get(k) !== k) k = parent.get(k)!;
    return k;
  };
  const union = (a: string, b: string): void => void parent.set(find(a), find(b));
  for (const op of ops) for (const k of groupsOf(op).keys) parent.set(k, k);
  const all = [...parent.keys()];
  const anchor = new Map<number, string | undefined>();
  for (const op of ops) {
    const { keys, prefixes } = groupsOf(op);
    const covered = [...keys, ...prefixes.flatMap((p) => all.filter((k) => k.startsWith(p)))];
    covered.forEach((k) => union(covered[0]!, k));
    anchor.set(op.id, covered[0]);
  }
  const parts = new Map<string, SimOp[]>();
  const alone: SimOp[][] = [];
  for (const op of ops) {
    const blind = op.status !== 'ok' && (isTxn(op) ? !writes(op.input) : op.input.op === 'get' || op.input.op === 'range');
    if (blind) continue;
    const a = anchor.get(op.id);
    if (a === undefined) alone.push([op]);
    else parts.set(find(a), [...(parts.get(find(a)) ?? []), op]);
  }
  const split = [...parts.values()].flatMap((part) => (part.some(isTxn) ? [part] : partitionSim(part)));
  return [...split, ...alone];
}

const show = (v: string | null | undefined): string => (v === null ? 'absent' : v === undefined ? '?' : JSON.stringify(v));

function describeCompare(c: ModelCompare): string {
  return c.target === 'exists' ? `${c.exists ? '' : '!'}exists(${JSON.stringify(c.key)})` : `${JSON.stringify(c.key)} ${c.op} ${show(c.value)}`;
}

function describeTxnOp(op: ModelTxnOp, r: TxnOpOutput | undefined): string {
  const seen = r === undefined ? '' : op.op === 'get' ? ` → ${show(r.value)}` : op.op === 'range' ? ` → ${JSON.stringify(r.entries ?? {})}` : op.op === 'delete' ? ` → ${String(r.deleted)}` : '';
  if (op.op === 'put') return `put(${JSON.stringify(op.key)}, ${show(op.value)})`;
  return `${op.op}(${JSON.stringify(op.op === 'range' ? op.prefix : op.key)})${seen}`;
}

function describeTxn(input: TxnInput, out: SimOutput | undefined): string {
  const branch = (ops: readonly ModelTxnOp[], ran: boolean): string => `[${ops.map((o, i) => describeTxnOp(o, ran ? out?.results?.[i] : undefined)).join(', ')}]`;
  const verdict = out === undefined ? ' → ?' : ` → ${out.succeeded ? 'then' : 'else'}`;
  return `txn(if ${input.compare.map(describeCompare).join(' && ') || 'true'} then ${branch(input.success, out?.succeeded === true)} else ${branch(input.failure, out?.succeeded === false)})${verdict}`;
}

/** kvModel plus `txn`. */
export const simKvModel: Model<KvState, SimInput, SimOutput> = {
  init: kvModel.init,
  step: (state, input, out) => (input.op === 'txn' ? stepTxn(state, input, out) : kvModel.step(state, input, out)),
  partition: partitionSim,
  hash: kvModel.hash!,
  describeOperation: (input, out) => (input.op === 'txn' ? describeTxn(input, out) : kvModel.describeOperation!(input, out)),
  describeState: kvModel.describeState!,
  describePartition: (ops) =>
    ops.some(isTxn) ? `keys ${[...new Set(ops.flatMap((op) => groupsOf(op).keys))].sort().join(', ')}` : kvModel.describePartition!(ops as NormalizedOperation<KvInput, KvOutput>[]),
};
