import { ClientErrorCode, RaftkitClientError } from './errors.js';
import type { KvEntry, TxnOp, TxnOpResult, TxnRequest, TxnResult } from './types.js';
import { checkValue, decodeValue, jsonValue, type KvValue } from './values.js';

/** An entry as the server sends it (`{ key, value, encoding, modRevision, ... }`). */
export function decodeEntry(raw: Record<string, unknown>): KvEntry {
  const { value, encoding, revision: _revision, ...rest } = raw;
  return { ...(rest as Omit<KvEntry, 'value'>), value: decodeValue(value, encoding) };
}

/** A value in a txn answer: `{ value, encoding }` beside the other fields, or nested as the value. */
function txnValue(raw: Record<string, unknown>): KvValue | null {
  const v = raw['value'];
  if (v === null || v === undefined) return null;
  if ('encoding' in raw) return decodeValue(v, raw['encoding']);
  if (typeof v === 'object' && !Array.isArray(v) && 'encoding' in (v as object) && 'value' in (v as object)) {
    const o = v as { value: unknown; encoding: unknown };
    return decodeValue(o.value, o.encoding);
  }
  return v as KvValue;
}

function encodeOp(op: TxnOp): unknown {
  if (op.op === 'put') {
    checkValue(op.value, `txn put ${op.key}: value`);
    return { ...op, value: jsonValue(op.value) };
  }
  return op;
}

/** The JSON body of POST /v1/txn: bytes as `{ "base64": ... }`. */
export function encodeTxn(t: TxnRequest): unknown {
  if (!t || !Array.isArray(t.compare) || !Array.isArray(t.success) || !Array.isArray(t.failure)) {
    throw new RaftkitClientError(ClientErrorCode.InvalidArgument, 'a txn is { compare: [...], success: [...], failure: [...] }');
  }
  return {
    compare: t.compare.map((c) => (c.target === 'value' ? { ...c, value: jsonValue(c.value) } : c)),
    success: t.success.map(encodeOp),
    failure: t.failure.map(encodeOp),
  };
}

export function decodeTxnResult(body: unknown): TxnResult {
  const b = body as { revision?: unknown; succeeded?: unknown; results?: unknown };
  if (typeof b?.revision !== 'number' || !Array.isArray(b.results)) {
    throw new RaftkitClientError(ClientErrorCode.BadResponse, 'txn: the answer is not { revision, succeeded, results }');
  }
  const results = b.results.map((r: Record<string, unknown>): TxnOpResult => {
    if (r['op'] === 'get') return { ...(r as object), value: txnValue(r) } as TxnOpResult;
    if (r['op'] === 'range') return { ...(r as object), entries: ((r['entries'] as Record<string, unknown>[]) ?? []).map(decodeEntry) } as TxnOpResult;
    return r as TxnOpResult;
  });
  for (const r of results) delete (r as { encoding?: unknown }).encoding;
  return { revision: b.revision, succeeded: b.succeeded === true, results };
}
