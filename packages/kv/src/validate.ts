import type { SessionTag } from './commands.js';
import { MAX_KEY_BYTES } from './commands.js';
import { utf8Bytes } from './codec/binary.js';
import { invalidArgument } from './errors.js';

/** How fresh a read must be. */
export type Consistency = 'linearizable' | 'lease' | 'stale';
const CONSISTENCIES: readonly Consistency[] = ['linearizable', 'lease', 'stale'];

/** A lone surrogate would not survive UTF-8 encoding: two different keys would collide. */
const LONE_SURROGATE = /\p{Cs}/u;

function checkText(s: unknown, what: string, allowEmpty: boolean): string {
  if (typeof s !== 'string') throw invalidArgument(`${what} must be a string, got ${typeOf(s)}`);
  if (!allowEmpty && s === '') throw invalidArgument(`${what} must not be empty`);
  if (LONE_SURROGATE.test(s)) throw invalidArgument(`${what} is not well-formed UTF-16 (lone surrogate)`);
  // UTF-8 takes at most 3 bytes per UTF-16 code unit; only measure when it could matter.
  if (s.length * 3 > MAX_KEY_BYTES && utf8Bytes(s).length > MAX_KEY_BYTES) {
    throw invalidArgument(`${what} is over ${MAX_KEY_BYTES} bytes of UTF-8`);
  }
  return s;
}

export const checkKey = (key: unknown, what = 'key'): string => checkText(key, what, false);
export const checkPrefix = (prefix: unknown): string => checkText(prefix, 'prefix', true);

export function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Options must be an object or omitted. */
export function checkOptions<T extends object>(opts: unknown, what: string): Partial<T> {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null) throw invalidArgument(`${what} must be an object, got ${typeOf(opts)}`);
  return opts as Partial<T>;
}

export function checkConsistency(c: unknown, fallback: Consistency): Consistency {
  if (c === undefined) return fallback;
  if (!CONSISTENCIES.includes(c as Consistency)) {
    throw invalidArgument(`consistency must be one of ${CONSISTENCIES.join(', ')}; got ${JSON.stringify(c) ?? typeOf(c)}`);
  }
  return c as Consistency;
}

/** A whole number in [1, max], or the fallback when omitted (required if there is none). */
export function checkCount(v: unknown, what: string, fallback: number | undefined, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw invalidArgument(`${what} must be an integer from 1 to ${max}, got ${String(v)}`);
  }
  return v;
}

/** A positive duration in milliseconds, or the fallback when omitted. */
export function checkDuration(v: unknown, what: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalidArgument(`${what} must be a positive number of ms, got ${String(v)}`);
  return v;
}

/** An explicit exactly-once tag (e.g. from a server's idempotency headers). */
export function checkTag(tag: unknown): SessionTag {
  const t = checkOptions<SessionTag>(tag, 'session tag');
  const clientId = checkCount(t.clientId, 'clientId', undefined);
  const seq = checkCount(t.seq, 'seq', undefined);
  const firstOutstanding = checkCount(t.firstOutstanding, 'firstOutstanding', seq, seq);
  return { clientId, seq, firstOutstanding };
}
