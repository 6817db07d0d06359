import { LincheckError, LincheckErrorCode } from '../errors.js';
import type { NormalizedOperation } from '../types.js';
import type { KvInput, KvOutput } from './types.js';

type KvOp = NormalizedOperation<KvInput, KvOutput>;

function invalid(op: KvOp, why: string): never {
  throw new LincheckError(LincheckErrorCode.InvalidOperation, `operation #${op.id}: ${why}`);
}

const isValue = (v: unknown): boolean => typeof v === 'string';
const isValueOrAbsent = (v: unknown): boolean => v === null || typeof v === 'string';

const KINDS: ReadonlySet<unknown> = new Set(['put', 'get', 'delete', 'cas', 'range']);

function validateInput(op: KvOp): void {
  const input = op.input;
  if (typeof input !== 'object' || input === null || !KINDS.has(input.op)) invalid(op, 'unknown input');
  if (input.op === 'range') {
    if (!isValue(input.prefix)) invalid(op, 'range needs a string prefix');
    return;
  }
  if (!isValue(input.key)) invalid(op, `${input.op} needs a string key`);
  if (input.op === 'put' && !isValue(input.value)) invalid(op, 'put needs a string value');
  if (input.op === 'cas' && !(isValue(input.value) && isValueOrAbsent(input.expected))) {
    invalid(op, 'cas needs a string value and an expected string or null');
  }
}

function validateOutput(op: KvOp): void {
  const out = op.output;
  if (out === undefined) return;
  const { op: kind } = op.input;
  if (out.value !== undefined && !isValueOrAbsent(out.value)) invalid(op, 'value must be a string or null');
  if (kind === 'get' && out.value === undefined) invalid(op, 'get output needs a value (null if absent)');
  if (kind === 'cas' && typeof out.ok !== 'boolean') invalid(op, 'cas output needs ok: boolean');
  if (kind === 'range' && (typeof out.entries !== 'object' || out.entries === null)) {
    invalid(op, 'range output needs entries');
  }
}

/** Union-find over keys: a range joins every key it covers into one part. */
class KeyGroups {
  private readonly parent = new Map<string, string>();

  add(key: string): void {
    if (!this.parent.has(key)) this.parent.set(key, key);
  }

  find(key: string): string {
    let root = key;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    for (let k = key; k !== root; ) {
      const next = this.parent.get(k)!;
      this.parent.set(k, root);
      k = next;
    }
    return root;
  }

  union(a: string, b: string): void {
    this.parent.set(this.find(a), this.find(b));
  }

  keys(): string[] {
    return [...this.parent.keys()];
  }
}

/** A read whose output was never seen constrains nothing and changes nothing. */
const isBlindRead = (op: KvOp): boolean => op.status !== 'ok' && (op.input.op === 'get' || op.input.op === 'range');

/** Stands for "absent" among observed values. */
const ABSENT = Symbol('absent');
type Seen = string | typeof ABSENT;

const seenAs = (v: string | null): Seen => (v === null ? ABSENT : v);

/** What an `ok` operation's outcome shows the key held when it took effect. */
function observedBy({ input, output }: KvOp): Seen[] {
  const seen: Seen[] = [];
  if (output?.value !== undefined) seen.push(seenAs(output.value));
  if (input.op === 'cas' && output?.ok === true) seen.push(seenAs(input.expected));
  // A range also shows which keys were absent.
  if (input.op === 'range') seen.push(ABSENT, ...Object.values(output?.entries ?? {}));
  return seen;
}

/** What an unknown write leaves the key holding, if it takes effect. */
function writtenBy({ input }: KvOp): Seen | undefined {
  if (input.op === 'put' || input.op === 'cas') return input.value;
  return input.op === 'delete' ? ABSENT : undefined;
}

/** A failed cas that did not say what it saw only shows the value was not `expected`. */
const isBlindCasFailure = (op: KvOp): boolean =>
  op.input.op === 'cas' && op.output?.ok === false && op.output.value === undefined;

/**
 * Timed-out writes whose effect nobody needs: nothing that must be explained observed the
 * value they write. Dropping them keeps every linearization valid: each `ok` operation
 * sees the same values, as none of them saw a dropped write's value. Each would otherwise
 * double the search when proving a history illegal. A timed-out cas is needed if its own
 * write is, and then it needs `expected`; hence the fixpoint. Unsafe, so skipped, when a
 * failed cas does not report what it saw.
 */
function unneededWrites(ops: readonly KvOp[]): Set<KvOp> {
  if (ops.some(isBlindCasFailure)) return new Set();
  const seen = new Set<Seen>(ops.filter((op) => op.status === 'ok').flatMap(observedBy));
  const pending = new Set(ops.filter((op) => op.status === 'unknown' && writtenBy(op) !== undefined));
  for (let grew = true; grew; ) {
    grew = false;
    for (const op of pending) {
      if (!seen.has(writtenBy(op)!)) continue;
      pending.delete(op);
      if (op.input.op === 'cas' && !seen.has(seenAs(op.input.expected))) {
        seen.add(seenAs(op.input.expected));
        grew = true;
      }
    }
  }
  return pending;
}

/**
 * One part per group of keys, so each search is small. Operations on different keys share
 * no state, so the history is linearizable iff every part is (Herlihy & Wing 1990, §3.3).
 * A range read touches every key with its prefix, so those keys form one part; a history
 * whose ranges cover every key is checked whole.
 */
export function partitionKv(ops: readonly KvOp[]): KvOp[][] {
  ops.forEach((op) => (validateInput(op), validateOutput(op)));
  const groups = new KeyGroups();
  for (const op of ops) if (op.input.op !== 'range') groups.add(op.input.key);
  const keys = groups.keys();
  const anchorOf = new Map<number, string>();
  for (const op of ops) {
    if (op.input.op !== 'range') continue;
    const prefix = op.input.prefix;
    const covered = keys.filter((k) => k.startsWith(prefix));
    covered.forEach((k) => groups.union(covered[0], k));
    if (covered.length > 0) anchorOf.set(op.id, covered[0]);
  }
  const parts = new Map<string, KvOp[]>();
  const alone: KvOp[][] = [];
  const dropped = unneededWrites(ops);
  for (const op of ops) {
    if (isBlindRead(op) || dropped.has(op)) continue;
    const anchor = op.input.op === 'range' ? anchorOf.get(op.id) : op.input.key;
    // A range that covers no written key only checks for emptiness: it stands alone.
    if (anchor === undefined) alone.push([op]);
    else push(parts, groups.find(anchor), op);
  }
  return [...parts.values(), ...alone];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
