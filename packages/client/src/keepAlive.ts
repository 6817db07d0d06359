import { sleep } from './backoff.js';
import { ClientErrorCode, isRaftkitClientError } from './errors.js';
import type { CallOptions, LeaseKeepAlive } from './types.js';

export interface KeepAliveLoopOptions {
  /** Stops the loop (it then resolves). Required: a loop nobody can stop would keep the lease for ever. */
  readonly signal: AbortSignal;
  /** Renew this often; default a third of the TTL the first keep-alive reports. */
  readonly intervalMs?: number;
  /** Told of each renewal. */
  readonly onRenew?: (r: LeaseKeepAlive) => void;
}

/**
 * Renews a lease until `signal` aborts. Each keep-alive may retry until just before the lease
 * would expire (its remaining TTL), so a leader change does not lose the lease; a lease the
 * cluster no longer has (KV_LEASE_NOT_FOUND) or could not renew in time rejects the loop.
 */
export async function keepAliveLoop(keepAlive: (o: CallOptions) => Promise<LeaseKeepAlive>, opts: KeepAliveLoopOptions): Promise<void> {
  let remaining = Number.POSITIVE_INFINITY;
  let interval = opts.intervalMs;
  while (!opts.signal.aborted) {
    let r: LeaseKeepAlive;
    try {
      r = await keepAlive({ signal: opts.signal, ...(Number.isFinite(remaining) ? { timeoutMs: Math.max(1, remaining) } : {}) });
    } catch (err) {
      if (opts.signal.aborted && isRaftkitClientError(err, ClientErrorCode.Aborted)) return;
      throw err;
    }
    opts.onRenew?.(r);
    interval ??= Math.max(1, Math.floor(r.ttlMs / 3));
    remaining = r.ttlMs - interval;
    try {
      await sleep(interval, opts.signal, 'keep-alive');
    } catch {
      return;
    }
  }
}
