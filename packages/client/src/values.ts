import { ClientErrorCode, RaftkitClientError } from './errors.js';

/** A stored value: any JSON value but a top-level null, or bytes. */
export type KvValue = string | number | boolean | KvValue[] | { [k: string]: KvValue | null } | Uint8Array;

/** Standard base64 without Buffer (works in browsers). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A value as the server sends it (`{ value, encoding: 'json' | 'base64' }`) -> the value. */
export function decodeValue(value: unknown, encoding: unknown): KvValue {
  if (encoding === 'base64') {
    if (typeof value !== 'string') throw new RaftkitClientError(ClientErrorCode.BadResponse, 'a base64 value that is not a string');
    return fromBase64(value);
  }
  return value as KvValue;
}

export function checkValue(value: unknown, what = 'value'): asserts value is KvValue {
  if (value === null || value === undefined) throw new RaftkitClientError(ClientErrorCode.InvalidArgument, `${what} cannot be ${value} (null means absent)`);
}

/** The body of a PUT: JSON text, or the bytes as application/octet-stream. */
export function putBody(value: KvValue): { body: string | Uint8Array; contentType: string } {
  checkValue(value);
  if (value instanceof Uint8Array) return { body: value, contentType: 'application/octet-stream' };
  return { body: JSON.stringify(value), contentType: 'application/json' };
}

/** A value inside a JSON request body (txn): bytes as `{ "base64": "..." }`. */
export function jsonValue(value: KvValue): unknown {
  return value instanceof Uint8Array ? { base64: toBase64(value) } : value;
}

/** A key as a path: `/` kept (keys may hold it), anything else percent-encoded. */
export function keyPath(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new RaftkitClientError(ClientErrorCode.InvalidArgument, 'a key is a non-empty string');
  return key.split('/').map(encodeURIComponent).join('/');
}
