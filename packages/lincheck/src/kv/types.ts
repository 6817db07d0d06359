/**
 * Inputs of the built-in key-value model. Values are strings: encode bytes or JSON as
 * strings. `null` means "absent".
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
 * Outputs of the built-in key-value model. `value` always means the value the key held when
 * the operation took effect, before any change it made (`null`: absent).
 * - get: `{ value }`, required.
 * - put, delete: `{}`, or `{ value }` if the store reports the previous value (then checked).
 * - cas: `{ ok }`, required, plus `{ value }` if the store reports the current value.
 * - range: `{ entries }`, required: every key with the prefix and its value.
 */
export interface KvOutput {
  readonly value?: string | null;
  readonly ok?: boolean;
  readonly entries?: Readonly<Record<string, string>>;
}

/** The state of a part of the store. Never mutated: each step returns a new map. */
export type KvState = ReadonlyMap<string, string>;

/** Builders for {@link KvInput}, so histories read like client code. */
export const kv = {
  put: (key: string, value: string): KvInput => ({ op: 'put', key, value }),
  get: (key: string): KvInput => ({ op: 'get', key }),
  delete: (key: string): KvInput => ({ op: 'delete', key }),
  cas: (key: string, expected: string | null, value: string): KvInput => ({ op: 'cas', key, expected, value }),
  range: (prefix: string): KvInput => ({ op: 'range', prefix }),
} as const;
