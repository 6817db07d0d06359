/**
 * Single-key operations and ranges of the built-in key-value model. Values are strings:
 * encode bytes or JSON as strings. `null` means "absent". The model also takes transactions:
 * see {@link KvModelInput}.
 */
export type KvInput =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'delete'; readonly key: string }
  /** Sets `value` iff the key currently holds `expected` (`null`: iff it is absent). */
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string }
  /** Reads every key that starts with `prefix`. */
  | { readonly op: 'range'; readonly prefix: string };

/**
 * Everything the built-in key-value model takes: {@link KvInput} and transactions. (A
 * separate type, so code that narrows a `KvInput` by `op` to a keyed one keeps compiling.)
 */
export type KvModelInput = KvInput | KvTxnInput;

/**
 * One compare of a transaction, as in `@raftkit/kv`: on the value (`==`, `!=`; an absent key
 * equals no value), on existence, or on a number of the key's record (`==`, `!=`, `<`, `>`;
 * an absent key counts as 0). `version` is the number of writes since the key was created;
 * `createRevision` and `modRevision` are the revisions writes report (see {@link KvOutput}).
 */
export type KvCompare =
  | { readonly key: string; readonly target: 'exists'; readonly exists: boolean }
  | { readonly key: string; readonly target: 'value'; readonly op: '==' | '!='; readonly value: string }
  | {
      readonly key: string;
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly op: '==' | '!=' | '<' | '>';
      readonly value: number;
    };

/** One op of a transaction branch. A range inside a txn is never truncated. */
export type KvTxnOp =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'range'; readonly prefix: string };

/**
 * A transaction: atomically, if every compare holds run `success`, else `failure`; each op
 * sees the writes of the ops before it.
 */
export interface KvTxnInput {
  readonly op: 'txn';
  readonly compare: readonly KvCompare[];
  readonly success: readonly KvTxnOp[];
  readonly failure: readonly KvTxnOp[];
  /**
   * Set by the model's partition, never by you: a timed-out txn whose compares on revisions
   * may be undecidable is checked as two copies, one per branch, each taking effect only
   * where its compares do not contradict its branch.
   */
  readonly branch?: 'success' | 'failure';
}

/**
 * One txn op's outcome, by position in the branch that ran:
 * - put: `{}`.
 * - delete: `{ deleted }`, whether the key existed (checked when given).
 * - get: `{ value }` (`null`: absent), required; `version`, `createRevision`, `modRevision`
 *   of the record are checked when given (0 for an absent key).
 * - range: `{ entries }`, required: every key with the prefix and its value, in any order.
 */
export interface KvTxnOpOutput {
  readonly value?: string | null;
  readonly deleted?: boolean;
  readonly entries?: Readonly<Record<string, string>>;
  readonly version?: number;
  readonly createRevision?: number;
  readonly modRevision?: number;
}

/**
 * Outputs of the built-in key-value model. `value` always means the value the key held when
 * the operation took effect, before any change it made (`null`: absent).
 * - get: `{ value }`, required.
 * - put, delete: `{}`, or `{ value }` if the store reports the previous value (then checked).
 * - cas: `{ ok }`, required, plus `{ value }` if the store reports the current value.
 * - range: `{ entries }`, required: every key with the prefix and its value.
 * - txn: `{ succeeded, results }`, required: which branch ran and one result per op of it.
 *
 * A write (put, delete, a cas that swapped, a txn) may report `revision`, the revision it
 * wrote at: the keys it writes then have that `modRevision` (and `createRevision` if it
 * created them), and it must exceed the key's previous `modRevision`.
 */
export interface KvOutput {
  readonly value?: string | null;
  readonly ok?: boolean;
  readonly entries?: Readonly<Record<string, string>>;
  readonly revision?: number;
  readonly succeeded?: boolean;
  readonly results?: readonly KvTxnOpOutput[];
}

/**
 * A present key's record. Revisions are `null` when not known: the write that set them
 * did not report its revision (it timed out, or the store does not say).
 */
export interface KvRecord {
  readonly value: string;
  /** Writes since the key was created: 1 after the creating write. */
  readonly version: number;
  readonly createRevision: number | null;
  readonly modRevision: number | null;
}

/** The state of a part of the store. Never mutated: each step returns a new map. */
export type KvState = ReadonlyMap<string, KvRecord>;

/** Builders for {@link KvInput}, so histories read like client code. */
export const kv = {
  put: (key: string, value: string): KvInput => ({ op: 'put', key, value }),
  get: (key: string): KvInput => ({ op: 'get', key }),
  delete: (key: string): KvInput => ({ op: 'delete', key }),
  cas: (key: string, expected: string | null, value: string): KvInput => ({ op: 'cas', key, expected, value }),
  range: (prefix: string): KvInput => ({ op: 'range', prefix }),
  txn: (compare: readonly KvCompare[], success: readonly KvTxnOp[], failure: readonly KvTxnOp[] = []): KvTxnInput => ({
    op: 'txn',
    compare,
    success,
    failure,
  }),
} as const;
