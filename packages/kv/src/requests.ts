import type { KvWrite } from './commands.js';
import { KvError, KvErrorCode, invalidArgument } from './errors.js';
import type { KvCommandResult } from './results.js';
import type { KvLeaseRequest, KvWriteRequest, KvWriteResults } from './types.js';
import { checkLeaseId, checkLeaseTtl } from './leaseErrors.js';
import { buildTxn, checkLease, toTxnResult } from './txnRequest.js';
import { checkKey, typeOf } from './validate.js';
import { fromStoredValue, toStoredValue } from './values.js';

export interface WriteLimits {
  readonly maxValueBytes: number;
  readonly maxBatchEntries: number;
}

/**
 * Validates a caller's write and encodes its values.
 * @throws KvError KV_INVALID_ARGUMENT before anything reaches the log.
 */
export function buildWrite(request: KvWriteRequest | KvLeaseRequest, limits: WriteLimits): KvWrite {
  if (typeof request !== 'object' || request === null) throw invalidArgument(`write request must be an object, got ${typeOf(request)}`);
  switch (request.op) {
    case 'put': {
      const key = checkKey(request.key);
      const value = toStoredValue(request.value, limits.maxValueBytes);
      const lease = checkLease(request.lease, 'lease');
      return lease === 0 ? { op: 'put', key, value } : { op: 'put', key, value, lease };
    }
    case 'delete':
      return { op: 'delete', key: checkKey(request.key) };
    case 'cas': {
      const key = checkKey(request.key);
      const expected = request.expected === null ? null : toStoredValue(request.expected, limits.maxValueBytes, 'expected');
      return { op: 'cas', key, expected, value: toStoredValue(request.value, limits.maxValueBytes) };
    }
    case 'putMany':
      return { op: 'putMany', entries: buildEntries(request.entries, limits) };
    case 'txn':
      return buildTxn(request, limits);
    case 'leaseGrant': {
      const id = checkLease(request.id, 'lease id');
      const ttl = checkLeaseTtl(request.ttlMs as number);
      if (ttl) throw invalidArgument(ttl.message);
      return { op: 'leaseGrant', id, ttlMs: request.ttlMs };
    }
    case 'leaseRevoke': {
      const bad = checkLeaseId(request.id as number);
      if (bad) throw invalidArgument(bad.message);
      return { op: 'leaseRevoke', id: request.id, grantRevision: 0, expired: false };
    }
    default:
      throw invalidArgument(`unknown write op ${JSON.stringify((request as { op: unknown }).op)}`);
  }
}

function buildEntries(entries: unknown, limits: WriteLimits): { key: string; value: ReturnType<typeof toStoredValue> }[] {
  if (!Array.isArray(entries)) throw invalidArgument(`putMany needs an array of [key, value] pairs, got ${typeOf(entries)}`);
  if (entries.length === 0) throw invalidArgument('putMany needs at least one entry');
  if (entries.length > limits.maxBatchEntries) throw invalidArgument(`putMany of ${entries.length} entries is over the limit of ${limits.maxBatchEntries}`);
  const seen = new Set<string>();
  return entries.map((pair: unknown, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw invalidArgument(`putMany entry ${i} must be a [key, value] pair`);
    const key = checkKey(pair[0], `putMany entry ${i} key`);
    // A repeated key would make the batch's meaning depend on order: refuse it.
    if (seen.has(key)) throw invalidArgument(`putMany has key ${JSON.stringify(key)} twice`);
    seen.add(key);
    return { key, value: toStoredValue(pair[1], limits.maxValueBytes, `putMany entry ${i} value`) };
  });
}

/**
 * The caller-facing result of a write. A cached result of another kind means the caller
 * reused a (clientId, seq) for a different command: the original's result cannot answer it.
 */
export function toPublicResult<K extends keyof KvWriteResults>(op: K, r: KvCommandResult): KvWriteResults[K] {
  if (r.type !== op) {
    throw new KvError(KvErrorCode.UnexpectedResult, `a ${op} got the ${r.type} result of revision ${r.revision}: was its seq reused for another command?`);
  }
  switch (r.type) {
    case 'put':
      return { revision: r.revision } as KvWriteResults[K];
    case 'delete':
      return { revision: r.revision, deleted: r.deleted } as KvWriteResults[K];
    case 'putMany':
      return { revision: r.revision, count: r.count } as KvWriteResults[K];
    case 'txn':
      return toTxnResult(r.revision, r.succeeded, r.results) as KvWriteResults[K];
    case 'leaseGrant':
      return { revision: r.revision, id: r.id, ttlMs: r.ttlMs } as KvWriteResults[K];
    case 'leaseRevoke':
      return { revision: r.revision, revoked: r.revoked, deleted: r.deleted } as KvWriteResults[K];
    case 'cas': {
      if (r.ok) return { revision: r.revision, ok: true } as KvWriteResults[K];
      const current = r.current ? fromStoredValue(r.current) : null;
      return { revision: r.revision, ok: false, current } as KvWriteResults[K];
    }
    default:
      throw new KvError(KvErrorCode.UnexpectedResult, `unexpected result for a ${op}`);
  }
}
