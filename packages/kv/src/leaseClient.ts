import { NotLeaderError } from '@raftkit/core';
import { invalidArgument } from './errors.js';
import { checkLeaseId, leaseNotFoundError } from './leaseErrors.js';
import type { LeaseKeeper } from './leaseKeeper.js';
import type { KvReplica, LeaseKeepAliveResult, LeaseTimeToLive } from './types.js';

/** What one attempt of a leader-side lease call may wait. */
export interface LeaseAttempt {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** `id` if it can name a lease. @throws KvError KV_INVALID_ARGUMENT */
export function checkedLeaseId(id: unknown): number {
  const bad = checkLeaseId(id as number);
  if (bad) throw invalidArgument(bad.message);
  return id as number;
}

/**
 * Lease keep-alive on `replica`, which must lead: a plain ReadIndex first (never a lease
 * read), so this leader still leads and has applied every entry committed before the call, a
 * revoke included; then the keeper resets the deadline to now + ttl. Not written to the log.
 * @throws NotLeaderError (with a hint) elsewhere; KvError KV_LEASE_NOT_FOUND if the lease is
 *   gone or its deadline passed.
 */
export async function keepAliveOn(replica: KvReplica, id: number, attempt: LeaseAttempt): Promise<LeaseKeepAliveResult> {
  const keeper = await confirmedLeader(replica, attempt);
  return { id, ttlMs: keeper.keepAlive(id) };
}

/** The lease's time left by the leader's clock, its granted TTL and (if asked) its keys, on the leader. */
export async function timeToLiveOn(replica: KvReplica, id: number, withKeys: boolean, attempt: LeaseAttempt): Promise<LeaseTimeToLive> {
  const keeper = await confirmedLeader(replica, attempt);
  const ttlMs = keeper.remaining(id);
  const lease = replica.machine.lease(id);
  // The keeper learns of revokes as they apply, so this holds; it is a cheap check anyway.
  if (lease === undefined) throw leaseNotFoundError(id);
  const keys = withKeys ? replica.machine.leaseKeys(id) : undefined;
  return { id, ttlMs, grantedTtlMs: lease.ttlMs, ...(keys !== undefined && { keys }) };
}

async function confirmedLeader(replica: KvReplica, attempt: LeaseAttempt): Promise<LeaseKeeper> {
  const keeper = replica.leases;
  if (keeper === undefined) throw invalidArgument(`replica ${replica.node.id} has no LeaseKeeper (build it with createKvReplica or keepLeases)`);
  // Not the leader: say so before asking for a ReadIndex, which a follower would forward.
  if (!keeper.isLeader) throw new NotLeaderError(hintOf(replica), `lease deadlines are kept by the leader; node ${replica.node.id} is not the leader`);
  const read: { timeoutMs: number; signal?: AbortSignal } = attempt.signal ? { timeoutMs: attempt.timeoutMs, signal: attempt.signal } : { timeoutMs: attempt.timeoutMs };
  await replica.node.readIndex(read);
  // Lost the lead meanwhile: the keeper throws NotLeaderError itself.
  return keeper;
}

function hintOf(replica: KvReplica): string | null {
  const leader = replica.node.status?.().leader ?? null;
  return leader === replica.node.id ? null : leader;
}
