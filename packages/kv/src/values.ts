import { DecodeError, type Reader, type Writer, utf8Bytes } from './codec/binary.js';
import { KvError, KvErrorCode, invalidArgument } from './errors.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A stored value: raw bytes, or any JSON value except a top-level `null` (`null` means
 * "absent" everywhere in this API, so it cannot also be a value).
 */
export type KvValue = Uint8Array | string | number | boolean | JsonValue[] | { [key: string]: JsonValue };

/** How a value's bytes are to be read back. */
export const ValueKind = { Bytes: 0, Json: 1 } as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

/** A value as the state machine holds it: never parsed on apply, so apply stays cheap. */
export interface StoredValue {
  readonly kind: ValueKind;
  /** The bytes. Never mutate them. On a value held by a ValueStore this may read them back, so read it once. */
  readonly data: Uint8Array;
  /** `data.length`, when known without reading the bytes (a value held on disk). */
  readonly size?: number;
  /** Heap bytes this value keeps alive, when not about `data.length` (a value held on disk). */
  readonly heapBytes?: number;
}

/**
 * Where the state machine keeps its values' bytes. `hold` is called with every value it stores
 * (on apply and on restore) and returns the value to keep: the same one (kept in memory) or
 * one holding the same kind and bytes elsewhere. It must not throw: a value it cannot place
 * is returned as it is. `FileValueStore` (`@raftkit/kv/file-values`) keeps large values in files.
 */
export interface ValueStore {
  hold(value: StoredValue): StoredValue;
}

/** A value's length in bytes, without reading a value held on disk. */
export const valueSize = (v: StoredValue): number => v.size ?? v.data.length;

/** Heap bytes a value keeps alive (its bytes, unless it is held elsewhere). */
export const valueHeapBytes = (v: StoredValue): number => v.heapBytes ?? v.data.byteLength;

const MAX_JSON_DEPTH = 64;

function checkJson(v: unknown, path: string, depth: number): void {
  if (depth > MAX_JSON_DEPTH) throw invalidArgument(`${path} nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    // JSON.stringify would silently turn these into null.
    if (!Number.isFinite(v)) throw invalidArgument(`${path} is ${v}, which JSON cannot represent`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((item, i) => checkJson(item, `${path}[${i}]`, depth + 1));
    return;
  }
  if (typeof v === 'object' && isPlainObject(v)) {
    for (const [k, item] of Object.entries(v)) checkJson(item, `${path}.${k}`, depth + 1);
    return;
  }
  throw invalidArgument(`${path} is not a JSON value (got ${describe(v)})`);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

/**
 * Validates and encodes a caller's value. Bytes are copied, so later changes by the caller
 * cannot alter what is proposed.
 * @throws KvError KV_INVALID_ARGUMENT if it is not bytes or a JSON value, or is too large.
 */
export function toStoredValue(v: unknown, maxBytes: number, what = 'value'): StoredValue {
  if (v instanceof Uint8Array) {
    checkSize(v.length, maxBytes, what);
    return { kind: ValueKind.Bytes, data: new Uint8Array(v) };
  }
  if (v === null || v === undefined) throw invalidArgument(`${what} must be bytes or a JSON value, got ${v} (use delete to remove a key)`);
  checkJson(v, what, 0);
  const data = utf8Bytes(JSON.stringify(v));
  checkSize(data.length, maxBytes, what);
  return { kind: ValueKind.Json, data };
}

function checkSize(size: number, max: number, what: string): void {
  if (size > max) throw invalidArgument(`${what} is ${size} bytes, over the limit of ${max}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The caller-facing value: a fresh copy of the bytes, or freshly parsed JSON. */
export function fromStoredValue(s: StoredValue): KvValue {
  if (s.kind === ValueKind.Bytes) return new Uint8Array(s.data);
  try {
    return JSON.parse(utf8.decode(s.data)) as KvValue;
  } catch (err) {
    // Only a hand-made command can store bad JSON; KvClient always encodes valid JSON.
    throw new KvError(KvErrorCode.BadCommand, 'stored JSON value does not parse', { cause: err });
  }
}

/** Values are equal when kind and bytes are: JSON compares by its serialized text. */
export function sameValue(a: StoredValue, b: StoredValue): boolean {
  if (a.kind !== b.kind || valueSize(a) !== valueSize(b)) return false;
  const x = a.data;
  const y = b.data;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Encoding: kind byte, then length-prefixed data. */
export function writeValue(w: Writer, v: StoredValue): void {
  w.u8(v.kind).bytes(v.data);
}

/**
 * Decodes a value, copying its bytes out of the input: a stored value must neither alias an
 * input the caller may reuse nor keep a whole log entry or snapshot chunk alive. (Not
 * `.slice()`: on a Node Buffer input that is a view, not a copy.)
 */
export function readValue(r: Reader): StoredValue {
  const kind = r.u8();
  if (kind !== ValueKind.Bytes && kind !== ValueKind.Json) throw new DecodeError(`unknown value kind ${kind}`);
  return { kind, data: new Uint8Array(r.bytes()) };
}

/** An optional value: 0 for absent, else 1 and the value. */
export function writeOptionalValue(w: Writer, v: StoredValue | null): void {
  if (v === null) w.u8(0);
  else writeValue(w.u8(1), v);
}

export function readOptionalValue(r: Reader): StoredValue | null {
  const present = r.u8();
  if (present === 0) return null;
  if (present !== 1) throw new DecodeError(`bad presence byte ${present}`);
  return readValue(r);
}
