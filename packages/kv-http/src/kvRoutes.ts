import { NotLeaderError } from '@raftkit/core';
import type { KvClient, KvValue, SessionTag } from '@raftkit/kv';
import type { NextFunction, Request, Response, Router } from 'express';
import { bodyError, fastJsonBody, fastRawBody, inSeries, jsonBody, rawBody } from './body.js';
import { bodyDeadline } from './bodyDeadline.js';
import { HttpError, ServerErrorCode, sendError } from './httpErrors.js';
import { sendJson } from './jsonResponse.js';
import { routeWrapper } from './routeWrap.js';
import type { KvHttpMetrics } from './metrics.js';

export interface KvRouteDeps {
  client: KvClient;
  metrics: KvHttpMetrics;
  maxValueBytes: number;
  /** How long a request body may take to arrive (--request-timeout-ms); then 408. */
  requestTimeoutMs: number;
  /** Turns a NotLeaderError into a redirect or a forwarded request; false if it cannot. */
  onNotLeader(req: Request, res: Response, err: NotLeaderError): Promise<boolean>;
  /** Carries a write refused during a leadership handover to the new leader; false if it cannot. */
  onHandoff(req: Request, res: Response, err: unknown): Promise<boolean>;
}

const PREFIX = '/v1/kv';
/** `/v1/kv/{key}`, the key being the rest of the path: a RegExp reads the same in express 4 and 5. */
const KEY_PATH = /^\/v1\/kv\/(.+)$/;
const KEY_URL_PREFIX = `${PREFIX}/`;

const consistencies = new Set(['linearizable', 'lease', 'stale']);

/** A stored value as JSON: JSON values as they are, bytes as base64. */
export function encodeValue(v: KvValue): { value: unknown; encoding: 'json' | 'base64' } {
  return v instanceof Uint8Array ? { value: Buffer.from(v).toString('base64'), encoding: 'base64' } : { value: v, encoding: 'json' };
}

/** The key: the RegExp route's capture (`params[0]`, in express 4 and 5 alike). */
function keyOf(req: Request): string {
  return (req.params as { 0?: string })[0] ?? '';
}

/** The query strings a hot read sends, answered without parsing (express 5 parses `req.query` on every access). */
const PLAIN_CONSISTENCY = new Map<string, 'linearizable' | 'lease' | 'stale'>([
  ['', 'linearizable'],
  ['consistency=linearizable', 'linearizable'],
  ['consistency=lease', 'lease'],
  ['consistency=stale', 'stale'],
]);

export function consistencyOf(req: Request): 'linearizable' | 'lease' | 'stale' {
  const url = req.url;
  const q = url.indexOf('?');
  const plain = PLAIN_CONSISTENCY.get(q < 0 ? '' : url.slice(q + 1));
  if (plain !== undefined) return plain;
  const c = req.query['consistency'];
  if (c === undefined) return 'linearizable';
  if (typeof c !== 'string' || !consistencies.has(c)) {
    throw new HttpError(400, 'KV_INVALID_ARGUMENT', `consistency must be linearizable, lease or stale, got ${JSON.stringify(c)}`);
  }
  return c as 'linearizable' | 'lease' | 'stale';
}

/** Idempotency headers -> a KV session tag (thesis §6.3); none -> no deduplication. */
export function sessionTagOf(req: Request): SessionTag | null {
  const id = req.get('x-raftkit-client-id');
  const seq = req.get('x-raftkit-seq');
  if (id === undefined && seq === undefined) return null;
  const n = (s: string | undefined, name: string): number => {
    const v = Number(s);
    if (s === undefined || !/^\d+$/.test(s) || !Number.isSafeInteger(v) || v < 1) {
      throw new HttpError(400, 'KV_INVALID_ARGUMENT', `${name} must be a positive integer (send x-raftkit-client-id and x-raftkit-seq together)`);
    }
    return v;
  };
  const clientId = n(id, 'x-raftkit-client-id');
  const s = n(seq, 'x-raftkit-seq');
  const first = req.get('x-raftkit-first-outstanding');
  return { clientId, seq: s, firstOutstanding: first === undefined ? s : n(first, 'x-raftkit-first-outstanding') };
}

/** `?lease=ID` of a PUT: the lease to attach the key to (it must exist: 404 KV_LEASE_NOT_FOUND). */
function leaseQuery(req: Request): number | undefined {
  const q = req.query['lease'];
  if (q === undefined) return undefined;
  return leaseIdOf(q, 'lease');
}

/** A lease id from a query or path: a positive safe integer, in decimal digits. */
export function leaseIdOf(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new HttpError(400, 'KV_INVALID_ARGUMENT', `${what} must be a lease id (a positive integer), got ${JSON.stringify(v)}`);
  return n;
}

/** A value over the limit is a 413, whatever its encoding (JSON counts its serialized text). */
export function checkValueSize(v: unknown, maxValueBytes: number, what = 'value'): void {
  const size = v instanceof Uint8Array ? v.length : Buffer.byteLength(JSON.stringify(v) ?? '');
  if (size > maxValueBytes) throw new HttpError(413, ServerErrorCode.BodyTooLarge, `${what} is ${size} bytes, over the limit of ${maxValueBytes} (--max-value-bytes)`);
}

/** The request body as a KV value: JSON for application/json, raw bytes otherwise. */
function bodyValue(req: Request, maxValueBytes: number): KvValue {
  if (Buffer.isBuffer(req.body)) {
    checkValueSize(req.body, maxValueBytes);
    return new Uint8Array(req.body);
  }
  if (req.is('application/json')) {
    if (req.body === null || req.body === undefined) throw new HttpError(400, 'KV_INVALID_ARGUMENT', 'a JSON null cannot be stored (null means absent)');
    checkValueSize(req.body, maxValueBytes);
    return req.body as KvValue;
  }
  throw new HttpError(400, 'KV_INVALID_ARGUMENT', 'send the value as application/json or application/octet-stream');
}

// Standard base64 (RFC 4648 §4) with its padding; Buffer.from would skip any other character
// silently, so "not base64!" would become a few arbitrary bytes, or none.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function base64Bytes(x: unknown, what: string): Uint8Array {
  if (typeof x !== 'string' || !BASE64.test(x)) {
    throw new HttpError(400, 'KV_INVALID_ARGUMENT', `${what} must be a base64 string (standard alphabet, padded) when "encoding" is base64`);
  }
  return new Uint8Array(Buffer.from(x, 'base64'));
}

function casBody(req: Request, maxValueBytes: number): { expected: KvValue | null; value: KvValue } {
  const b = req.body as Record<string, unknown> | undefined;
  if (!req.is('application/json') || b === null || typeof b !== 'object' || Array.isArray(b)) {
    throw new HttpError(400, 'KV_INVALID_ARGUMENT', 'cas takes a JSON object {"expected": value | null, "value": value}');
  }
  if (!('expected' in b) || !('value' in b)) throw new HttpError(400, 'KV_INVALID_ARGUMENT', 'cas needs both "expected" (null: must be absent) and "value"');
  if (b['encoding'] !== undefined && b['encoding'] !== 'json' && b['encoding'] !== 'base64') throw new HttpError(400, 'KV_INVALID_ARGUMENT', '"encoding" must be json or base64');
  const bytes = (x: unknown, what: string) => (b['encoding'] === 'base64' ? base64Bytes(x, what) : x);
  if (b['value'] === null) throw new HttpError(400, 'KV_INVALID_ARGUMENT', '"value" cannot be null');
  const expected = b['expected'] === null ? null : (bytes(b['expected'], '"expected"') as KvValue);
  const value = bytes(b['value'], '"value"') as KvValue;
  if (expected !== null) checkValueSize(expected, maxValueBytes, '"expected"');
  checkValueSize(value, maxValueBytes, '"value"');
  return { expected, value };
}

/**
 * Serves GET, PUT and DELETE on `/v1/kv/{key}` without the router's walk over its layers
 * (matching, parameter processing, dispatch: the largest share of a request's express cost,
 * issue 11), with the very handlers the router has for them. Returns false for anything else,
 * which is then the router's.
 */
export type KeyRouteShortcut = (req: Request, res: Response, next: NextFunction) => boolean;

/**
 * The client KV API under /v1/kv, registered on `r` (the router `createKvRouter` returns);
 * returns the shortcut to its hot routes (see KeyRouteShortcut).
 */
export function mountKvRoutes(r: Router, deps: KvRouteDeps): KeyRouteShortcut {
  const limit = deps.maxValueBytes + 64 * 1024;
  const deadline = bodyDeadline(deps.requestTimeoutMs);
  const fast = fastJsonBody(limit);
  const json = jsonBody(limit);
  // The deadline first; a plain JSON or raw body is read by a fast reader, anything else
  // (a JSON charset, a Content-Encoding, no Content-Length) by body-parser.
  const putBody = inSeries(deadline, fast, fastRawBody(limit), json, rawBody(limit));
  const casBodyReader = inSeries(deadline, fast, json);
  const wrap = routeWrapper(deps.metrics, { onNotLeader: deps.onNotLeader, onHandoff: deps.onHandoff });
  const { client } = deps;

  r.get(PREFIX, wrap('range', async (req, res) => {
    const prefixQ = req.query['prefix'];
    if (prefixQ !== undefined && typeof prefixQ !== 'string') throw new HttpError(400, 'KV_INVALID_ARGUMENT', 'give prefix once, as a string');
    const prefix = prefixQ ?? '';
    const limitQ = req.query['limit'];
    const lim = limitQ === undefined ? undefined : Number(limitQ);
    if (lim !== undefined && (!Number.isSafeInteger(lim) || lim < 1)) throw new HttpError(400, 'KV_INVALID_ARGUMENT', 'limit must be a positive integer');
    const consistency = consistencyOf(req);
    const out = await client.range(prefix, { consistency, ...(lim !== undefined ? { limit: lim } : {}) });
    deps.metrics.countRead(consistency, 'ok');
    sendJson(res, 200, { revision: out.revision, more: out.more, entries: out.entries.map((e) => ({ key: e.key, ...encodeValue(e.value), modRevision: e.modRevision, createRevision: e.createRevision, version: e.version })) });
  }));

  // One route for every method on a key: its path is matched once per request, not per method.
  const keyRoute = r.route(KEY_PATH);
  const getKey = wrap('get', async (req, res) => {
    const key = keyOf(req);
    const consistency = consistencyOf(req);
    const out = await client.get(key, { consistency });
    deps.metrics.countRead(consistency, out.value === null ? 'absent' : 'ok');
    if (out.value === null) {
      throw new HttpError(404, ServerErrorCode.KeyNotFound, `no key ${JSON.stringify(key)}`, { revision: out.revision });
    }
    // Bytes first: only then is the Accept header worth parsing.
    if (out.value instanceof Uint8Array && req.accepts(['application/json', 'application/octet-stream']) === 'application/octet-stream') {
      res.setHeader('x-raftkit-revision', String(out.revision)).type('application/octet-stream').send(Buffer.from(out.value));
      return;
    }
    sendJson(res, 200, { key, ...encodeValue(out.value), revision: out.revision, modRevision: out.modRevision, createRevision: out.createRevision, version: out.version });
  });
  keyRoute.get(getKey);

  const putKey = wrap('put', async (req, res) => {
    const key = keyOf(req);
    const lease = leaseQuery(req);
    const value = bodyValue(req, deps.maxValueBytes);
    const out = await client.proposeWrite<'put'>(lease === undefined ? { op: 'put', key, value } : { op: 'put', key, value, lease }, sessionTagOf(req));
    deps.metrics.countProposal('ok');
    sendJson(res, 200, out);
  });
  keyRoute.put(putBody, putKey);

  const deleteKey = wrap('delete', async (req, res) => {
    const out = await client.proposeWrite<'delete'>({ op: 'delete', key: keyOf(req) }, sessionTagOf(req));
    deps.metrics.countProposal('ok');
    sendJson(res, 200, out);
  });
  keyRoute.delete(deleteKey);

  keyRoute.post(casBodyReader, wrap('cas', async (req, res) => {
    const key = keyOf(req);
    if (!key.endsWith('/cas')) throw new HttpError(405, ServerErrorCode.MethodNotAllowed, 'POST is only for /v1/kv/{key}/cas');
    const { expected, value } = casBody(req, deps.maxValueBytes);
    const out = await client.proposeWrite<'cas'>({ op: 'cas', key: key.slice(0, -4), expected, value }, sessionTagOf(req));
    deps.metrics.countProposal('ok');
    sendJson(res, 200, { revision: out.revision, ok: out.ok, ...(out.ok ? {} : { current: out.current == null ? null : encodeValue(out.current) }) });
  }));

  keyRoute.all(wrap('other', async (req) => {
    throw new HttpError(405, ServerErrorCode.MethodNotAllowed, `${req.method} is not allowed on /v1/kv/{key}`);
  }));
  // A body the parsers refused (too large, malformed, not UTF-8, too deep, too slow).
  const bodyRefused = (err: unknown, req: Request, res: Response): void => {
    sendError(res, bodyError(err));
    deps.metrics.countRequest(req.method === 'POST' ? 'cas' : 'put', res.statusCode);
  };
  r.use(PREFIX, (err: unknown, req: Request, res: Response, _next: NextFunction) => bodyRefused(err, req, res));

  return (req, res, next) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') return false;
    const key = shortcutKey(req.url);
    if (key === null) return false;
    req.params = { 0: key } as unknown as Request['params'];
    if (method === 'GET') void getKey(req, res, next);
    else if (method === 'DELETE') void deleteKey(req, res, next);
    else putBody(req, res, (err?: unknown) => (err !== undefined && err !== null ? bodyRefused(err, req, res) : void putKey(req, res, next)));
    return true;
  };
}

/**
 * The key of a plain `/v1/kv/{key}` URL, decoded as the router decodes its parameters; null
 * for anything the router should judge itself (another path, a key that does not decode, a
 * `/cas` suffix, an absolute-form URL).
 */
function shortcutKey(url: string): string | null {
  if (!url.startsWith(KEY_URL_PREFIX)) return null;
  const q = url.indexOf('?');
  const raw = url.slice(KEY_URL_PREFIX.length, q < 0 ? url.length : q);
  if (raw.length === 0) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
