import type { KvValue, TxnResult } from '../../../src/index.js';
import type { ModelCompare, ModelTxnOp, SimOutput, TxnInput, TxnOpOutput } from './txnModel.js';

/** What a txn generator needs of its client. */
export interface TxnSource {
  readonly rand: () => number;
  /** A fresh, never-written value. */
  nextValue(): string;
  /** The value the client last saw in `key` (null: absent; undefined: never read). */
  seen(key: string): string | null | undefined;
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/**
 * A random transaction within one key group (`${group}0`, `${group}1`), so it joins no more
 * of the history than a range of that group already does: 0-2 compares on value (mostly
 * against the value last seen) or existence, a `success` of 1-3 ops and a `failure` of 0-2,
 * from put, delete, get and a range of the group; each key written at most once per branch.
 */
export function randomTxn(src: TxnSource, group: string): TxnInput {
  const { rand } = src;
  const keys = [`${group}0`, `${group}1`];
  const compare: ModelCompare[] = Array.from({ length: Math.floor(rand() * 3) }, () => {
    const key = pick(rand, keys);
    const seen = src.seen(key);
    if (rand() < 0.4 || seen === null || seen === undefined) return { key, target: 'exists', exists: rand() < 0.5 };
    return { key, target: 'value', op: rand() < 0.75 ? '==' : '!=', value: seen };
  });
  return { op: 'txn', compare, success: branch(src, keys, group, 1 + Math.floor(rand() * 3)), failure: branch(src, keys, group, Math.floor(rand() * 3)) };
}

function branch(src: TxnSource, keys: readonly string[], group: string, n: number): ModelTxnOp[] {
  const ops: ModelTxnOp[] = [];
  const written = new Set<string>();
  for (let i = 0; i < n; i++) {
    const key = pick(src.rand, keys);
    const r = src.rand();
    if (r < 0.45 && !written.has(key)) {
      written.add(key);
      ops.push({ op: 'put', key, value: src.nextValue() });
    } else if (r < 0.6 && !written.has(key)) {
      written.add(key);
      ops.push({ op: 'delete', key });
    } else if (r < 0.85) {
      ops.push({ op: 'get', key });
    } else {
      ops.push({ op: 'range', prefix: group });
    }
  }
  return ops;
}

const asString = (v: KvValue | null): string | null => {
  if (v !== null && typeof v !== 'string') throw new Error(`simulation only writes strings, read ${JSON.stringify(v)}`);
  return v;
};

/** The txn's result as the model's output. @throws if a range came back truncated. */
export function txnOutput(result: TxnResult): SimOutput {
  const results = result.results.map((r): TxnOpOutput => {
    switch (r.op) {
      case 'put':
        return {};
      case 'delete':
        return { deleted: r.deleted };
      case 'get':
        return { value: asString(r.value) };
      case 'range': {
        if (r.more) throw new Error('txn range truncated');
        return { entries: Object.fromEntries(r.entries.map((e) => [e.key, asString(e.value)!])) };
      }
    }
  });
  return { succeeded: result.succeeded, results };
}

/** The values a txn may leave in `key`: the ran branch's if known, else either branch's. */
export function txnWrites(input: TxnInput, succeeded: boolean | undefined, key: string): (string | null)[] {
  const branches = succeeded === undefined ? [input.success, input.failure] : [succeeded ? input.success : input.failure];
  const out: (string | null)[] = [];
  for (const ops of branches) {
    for (const op of ops) {
      if (op.op === 'put' && op.key === key) out.push(op.value);
      if (op.op === 'delete' && op.key === key) out.push(null);
    }
  }
  return out;
}
