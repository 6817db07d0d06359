import { KvError, KvErrorCode } from './errors.js';

/** Any code a lease operation fails with. */
export type LeaseFailureCode = typeof KvErrorCode.LeaseNotFound | typeof KvErrorCode.LeaseExists | typeof KvErrorCode.InvalidArgument;

/**
 * A lease operation that did not happen, as a value: the state machine turns it into an error
 * result (`{ type: 'error', revision, code, message }`), since a throw from apply would stop
 * the node. Nothing was changed.
 */
export interface LeaseFailure {
  readonly ok: false;
  readonly code: LeaseFailureCode;
  readonly message: string;
}

/** Longest TTL a lease may have: about 34 years, so deadlines stay far from 2^53. */
export const MAX_LEASE_TTL_MS = 2 ** 40;

export const leaseNotFound = (id: number): LeaseFailure => ({ ok: false, code: KvErrorCode.LeaseNotFound, message: `lease ${id} not found` });

export const leaseExists = (id: number): LeaseFailure => ({ ok: false, code: KvErrorCode.LeaseExists, message: `lease ${id} already exists` });

/** The failure for a bad id, or undefined if `id` can name a lease (a positive safe integer). */
export function checkLeaseId(id: number): LeaseFailure | undefined {
  if (Number.isSafeInteger(id) && id >= 1) return undefined;
  return { ok: false, code: KvErrorCode.InvalidArgument, message: `lease id must be a positive safe integer, got ${id}` };
}

/** The failure for a bad TTL, or undefined if `ttlMs` is an integer from 1 to MAX_LEASE_TTL_MS. */
export function checkLeaseTtl(ttlMs: number): LeaseFailure | undefined {
  if (Number.isSafeInteger(ttlMs) && ttlMs >= 1 && ttlMs <= MAX_LEASE_TTL_MS) return undefined;
  return { ok: false, code: KvErrorCode.InvalidArgument, message: `lease ttlMs must be an integer from 1 to ${MAX_LEASE_TTL_MS}, got ${ttlMs}` };
}

/** The KvError a failure stands for (what an API call rejects with). */
export const leaseError = (failure: LeaseFailure): KvError => new KvError(failure.code, failure.message);

/** KV_LEASE_NOT_FOUND as a KvError. */
export const leaseNotFoundError = (id: number): KvError => leaseError(leaseNotFound(id));
