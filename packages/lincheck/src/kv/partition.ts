import type { NormalizedOperation } from '../types.js';
import { untrackedCopy } from './record.js';
import { comparesRevisions, touchedBy, txnObservesMetadata, txnWrites } from './txn.js';
import { invalid, validateTxnInput, validateTxnOutput } from './txnValidate.js';
import type { KvModelInput, KvOutput, KvTxnInput } from './types.js';

type KvOp = NormalizedOperation<KvModelInput, KvOutput>;

const isValue = (v: unknown): boolean => typeof v === 'string';
const isValueOrAbsent = (v: unknown): boolean => v === null || typeof v === 'string';

const KINDS: ReadonlySet<unknown> = new Set(['put', 'get', 'delete', 'cas', 'range', 'txn']);

function validateInput(op: KvOp): void {
  const input = op.input;
  if (typeof input !== 'object' || input === null || !KINDS.has(input.op)) invalid(op, 'unknown input');
  if (input.op === 'range') {
    if (!isValue(input.prefix)) invalid(op, 'range needs a string prefix');
    return;
  }
  if (input.op === 'txn') return validateTxnInput(op, input);
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
  if (out.revision !== undefined && !Number.isFinite(out.revision)) invalid(op, 'revision must be a number');
  if (op.input.op === 'txn') return validateTxnOutput(op, op.input, out);
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

/** A read (or read-only txn) whose output was never seen constrains nothing and changes nothing. */
const isBlindRead = ({ status, input }: KvOp): boolean =>
  status !== 'ok' && (input.op === 'get' || input.op === 'range' || (input.op === 'txn' && !txnWrites(input)));

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

/** The keys an operation names, and the prefixes it reads. */
function reach({ input }: KvOp): { keys: string[]; prefixes: string[] } {
  if (input.op === 'txn') return touchedBy(input);
  return input.op === 'range' ? { keys: [], prefixes: [input.prefix] } : { keys: [input.key], prefixes: [] };
}

/**
 * A timed-out txn comparing revisions may meet a state where a compared revision is not
 * known (its write timed out too), so the model cannot pick the branch. It is checked as two
 * timed-out copies, one per branch; each may take effect only where its compares do not
 * contradict its branch. This admits the real outcome (one copy at the real point, the other
 * never), so nothing linearizable is rejected; it also admits both copies taking effect, so
 * such a history is checked less strictly.
 */
function splitUndecidable(op: KvOp): KvOp[] {
  const { input } = op;
  if (op.status === 'ok' || input.op !== 'txn' || !comparesRevisions(input)) return [op];
  const copy = (branch: 'success' | 'failure'): KvOp => ({ ...op, input: { ...input, branch } satisfies KvTxnInput });
  return [copy('success'), copy('failure')];
}

/**
 * One part per group of keys, so each search is small. Operations on different keys share
 * no state, so the history is linearizable iff every part is (Herlihy & Wing 1990, §3.3).
 * A range reads every key with its prefix and a txn every key it names and ranges over, so
 * those keys form one part (the connected key sets); a history whose ranges or txns link
 * every key is checked whole. Revisions are checked per key (a write's must exceed the key's
 * last one), never across keys, so parts stay independent. Timed-out writes nobody observed
 * are dropped only in parts without txns: a txn's compares on existence, version and
 * revisions can depend on a write whose value nobody saw.
 */
export function partitionKv(ops: readonly KvOp[]): KvOp[][] {
  ops.forEach((op) => (validateInput(op), validateOutput(op)));
  const groups = new KeyGroups();
  for (const op of ops) for (const k of reach(op).keys) groups.add(k);
  const keys = groups.keys();
  const anchorOf = new Map<number, string>();
  for (const op of ops) {
    const { keys: named, prefixes } = reach(op);
    const covered = [...named, ...prefixes.flatMap((p) => keys.filter((k) => k.startsWith(p)))];
    covered.forEach((k) => groups.union(covered[0], k));
    if (covered.length > 0) anchorOf.set(op.id, covered[0]);
  }
  const parts = new Map<string, KvOp[]>();
  const alone: KvOp[][] = [];
  for (const op of ops) {
    if (isBlindRead(op)) continue;
    const anchor = anchorOf.get(op.id);
    // A range that covers no written key only checks for emptiness: it stands alone.
    if (anchor === undefined) alone.push(splitUndecidable(op));
    else push(parts, groups.find(anchor), op);
  }
  const checked = [...parts.values()].map((part) => {
    if (part.some((op) => op.input.op === 'txn')) return withoutUnseenMetadata(part.flatMap(splitUndecidable));
    const dropped = unneededWrites(part);
    return withoutUnseenMetadata(dropped.size === 0 ? part : part.filter((op) => !dropped.has(op)));
  });
  return [...checked, ...alone];
}

const observesMetadata = ({ input, output }: KvOp): boolean =>
  output?.revision !== undefined || (input.op === 'txn' && txnObservesMetadata(input, output));

/** A part where nothing sees versions or revisions is checked on values alone (faster). */
function withoutUnseenMetadata(part: KvOp[]): KvOp[] {
  if (part.some(observesMetadata)) return part;
  return part.map((op) => ({ ...op, input: untrackedCopy(op.input) }));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
