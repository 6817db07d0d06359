/**
 * `POST /v1/txn`: an etcd-style transaction, exactly once under the request's session tag.
 *
 * The body is what @raftkit/client's `encodeTxn` sends: `{ compare, success, failure }`, each
 * value as JSON, bytes as `{ "base64": "..." }` (an object with that one string field: a JSON
 * object of that exact shape cannot be stored through a txn; PUT can). Every field is checked
 * here, naming it (`success[2].value`), before anything reaches the log; @raftkit/kv checks the
 * rest (keys, operators, a key written twice in a branch) with the same code.
 */
import type { KvEntry, KvValue, TxnCompare, TxnOp, TxnOpResult, TxnRequest } from '@raftkit/kv';
import type { NextFunction, Request, Response, Router } from 'express';
import { bodyError, fastJsonBody, inSeries, jsonBody } from './body.js';
import { bodyDeadline } from './bodyDeadline.js';
import { HttpError, sendError } from './httpErrors.js';
import { sendJson } from './jsonResponse.js';
import { base64Bytes, checkValueSize, encodeValue, sessionTagOf, type KvRouteDeps } from './kvRoutes.js';
import { routeWrapper } from './routeWrap.js';

const TXN_PATH = '/v1/txn';
const COMPARE_TARGETS = new Set(['value', 'exists', 'modRevision', 'createRevision', 'version']);
const OPS = new Set(['put', 'delete', 'get', 'range']);

const invalid = (message: string): HttpError => new HttpError(400, 'KV_INVALID_ARGUMENT', message);

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} must be a JSON object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw invalid(`${what} must be a string, got ${describe(v)}`);
  return v;
}

/** A value as the wire carries it: JSON as is, `{ "base64": "..." }` as bytes; null is refused. */
function wireValue(v: unknown, what: string, maxValueBytes: number): KvValue {
  if (v === null || v === undefined) throw invalid(`${what} is required and cannot be null (null means absent)`);
  let out: KvValue = v as KvValue;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'base64') out = base64Bytes((v as { base64: unknown }).base64, `${what}.base64`);
  }
  checkValueSize(out, maxValueBytes, what);
  return out;
}

function wholeNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`${what} must be a whole number >= 0, got ${describe(v)}`);
  return v;
}

function compareOf(v: unknown, what: string, maxValueBytes: number): TxnCompare {
  const c = object(v, what);
  const key = str(c['key'], `${what}.key`);
  const target = c['target'];
  if (typeof target !== 'string' || !COMPARE_TARGETS.has(target)) {
    throw invalid(`${what}.target must be value, exists, modRevision, createRevision or version, got ${describe(target)}`);
  }
  if (target === 'exists') {
    if (typeof c['exists'] !== 'boolean') throw invalid(`${what}.exists must be a boolean, got ${describe(c['exists'])}`);
    return { key, target, exists: c['exists'] };
  }
  const op = c['op'];
  if (target === 'value') {
    if (op !== '==' && op !== '!=') throw invalid(`${what}.op must be "==" or "!=" for a value compare, got ${describe(op)}`);
    return { key, target, op, value: wireValue(c['value'], `${what}.value`, maxValueBytes) };
  }
  if (op !== '==' && op !== '!=' && op !== '<' && op !== '>') throw invalid(`${what}.op must be "==", "!=", "<" or ">", got ${describe(op)}`);
  return { key, target: target as 'version', op, value: wholeNumber(c['value'], `${what}.value`) };
}

function opOf(v: unknown, what: string, maxValueBytes: number): TxnOp {
  const o = object(v, what);
  const op = o['op'];
  if (typeof op !== 'string' || !OPS.has(op)) throw invalid(`${what}.op must be put, delete, get or range, got ${describe(op)}`);
  if (op === 'range') {
    const prefix = str(o['prefix'], `${what}.prefix`);
    if (o['limit'] === undefined) return { op, prefix };
    const limit = wholeNumber(o['limit'], `${what}.limit`);
    if (limit < 1) throw invalid(`${what}.limit must be a positive integer, got 0`);
    return { op, prefix, limit };
  }
  const key = str(o['key'], `${what}.key`);
  if (op !== 'put') return { op: op as 'get' | 'delete', key };
  const value = wireValue(o['value'], `${what}.value`, maxValueBytes);
  if (o['lease'] === undefined) return { op, key, value };
  return { op, key, value, lease: wholeNumber(o['lease'], `${what}.lease`) };
}

function list<T>(body: Record<string, unknown>, field: string, each: (v: unknown, what: string) => T): T[] {
  const v = body[field];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(`${field} must be an array, got ${describe(v)}`);
  return v.map((x, i) => each(x, `${field}[${i}]`));
}

/** The request body as a txn, every field checked. */
export function txnBody(req: Request, maxValueBytes: number): TxnRequest {
  if (!req.is('application/json')) throw invalid('send the txn as application/json: {"compare": [...], "success": [...], "failure": [...]}');
  const b = object(req.body, 'the txn body');
  for (const f of Object.keys(b)) {
    if (f !== 'compare' && f !== 'success' && f !== 'failure') throw invalid(`unknown txn field ${JSON.stringify(f)} (compare, success, failure)`);
  }
  return {
    compare: list(b, 'compare', (v, w) => compareOf(v, w, maxValueBytes)),
    success: list(b, 'success', (v, w) => opOf(v, w, maxValueBytes)),
    failure: list(b, 'failure', (v, w) => opOf(v, w, maxValueBytes)),
  };
}

function entryJson(e: KvEntry): Record<string, unknown> {
  const { value, ...rest } = e;
  return { ...rest, ...encodeValue(value) };
}

/** One op's result on the wire: a get flat (`value`, `encoding` beside its revisions), range entries like GET /v1/kv. */
export function txnResultJson(r: TxnOpResult): Record<string, unknown> {
  if (r.op === 'get') {
    const { op, value, ...rest } = r;
    return value === null ? { op, value: null, ...rest } : { op, ...encodeValue(value), ...rest };
  }
  if (r.op === 'range') return { ...r, entries: r.entries.map(entryJson) };
  return { ...r };
}

/** POST /v1/txn, registered on `r`. */
export function mountTxnRoutes(r: Router, deps: KvRouteDeps): void {
  // Several values may travel in one txn: room for four of the largest, each still checked alone.
  const limit = 4 * deps.maxValueBytes + 64 * 1024;
  const body = inSeries(bodyDeadline(deps.requestTimeoutMs), fastJsonBody(limit), jsonBody(limit));
  const wrap = routeWrapper(deps.metrics, { onNotLeader: deps.onNotLeader, onHandoff: deps.onHandoff });
  r.post(TXN_PATH, body, wrap('txn', async (req, res) => {
    const txn = txnBody(req, deps.maxValueBytes);
    const out = await deps.client.proposeWrite<'txn'>({ op: 'txn', ...txn }, sessionTagOf(req));
    deps.metrics.countProposal('ok');
    sendJson(res, 200, { revision: out.revision, succeeded: out.succeeded, results: out.results.map(txnResultJson) });
  }));
  r.all(TXN_PATH, wrap('other', async (req) => {
    throw new HttpError(405, 'SERVER_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${TXN_PATH} (POST a txn)`);
  }));
  r.use(TXN_PATH, (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, bodyError(err));
    deps.metrics.countRequest('txn', res.statusCode);
  });
}
