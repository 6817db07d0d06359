import { invariant } from '@raftkit/core';
import type { KvChange } from './changes.js';
import type { KeyRecord, KeySpace } from './keySpace.js';
import { leaseNotFound } from './leaseErrors.js';
import type { LeaseSink } from './leaseKeeper.js';
import type { LeaseTable } from './leaseTable.js';
import type { KvWriteResult } from './results.js';
import type { TxnKeys } from './txn.js';
import type { StoredValue } from './values.js';

/**
 * The key space as apply writes it, keeping the lease table in step with the key records:
 * a key's record names the lease it is attached to (0: none) and that lease's key set holds
 * it. A put moves the key to its new lease (a put without one detaches it, as in etcd); a
 * delete detaches it. Invariant: for every key, `record.lease !== 0` iff the table has the key
 * attached to exactly that lease.
 */
export class LeasedKeys implements TxnKeys {
  constructor(
    private readonly keys: KeySpace,
    private readonly leases: LeaseTable,
  ) {}

  get(key: string): KeyRecord | undefined {
    return this.keys.get(key);
  }

  range(prefix: string, limit: number): { entries: [string, KeyRecord][]; more: boolean } {
    return this.keys.range(prefix, limit);
  }

  /** The caller checked that `lease` (unless 0) exists: see `missingLease`. */
  set(key: string, value: StoredValue, revision: number, lease = 0): KeyRecord {
    const old = this.keys.get(key)?.lease ?? 0;
    if (old !== 0 && old !== lease) this.leases.detach(key, old);
    if (lease !== 0) invariant(this.leases.attach(key, lease).ok, `kv put of ${JSON.stringify(key)} on lease ${lease}, which is not in the table`);
    return this.keys.set(key, value, revision, lease);
  }

  delete(key: string): KeyRecord | undefined {
    const prev = this.keys.delete(key);
    if (prev !== undefined && prev.lease !== 0) this.leases.detach(key, prev.lease);
    return prev;
  }
}

/**
 * The KV_LEASE_NOT_FOUND result for the first of `leases` (0s skipped) the table does not
 * hold, or undefined if it holds them all. Checked before a write runs, so it writes nothing.
 */
export function missingLease(table: LeaseTable, leases: Iterable<number>, index: number): KvWriteResult | undefined {
  for (const id of leases) {
    if (id !== 0 && !table.has(id)) return { type: 'error', revision: index, ...withoutOk(leaseNotFound(id)) };
  }
  return undefined;
}

/** Grants lease `id` (0: the entry's index) at `index`; tells the sinks. */
export function grantLease(table: LeaseTable, id: number, ttlMs: number, index: number, sinks: readonly LeaseSink[]): KvWriteResult {
  const leaseId = id === 0 ? index : id;
  const r = table.grant(leaseId, ttlMs, index);
  if (!r.ok) return { type: 'error', revision: index, ...withoutOk(r) };
  for (const sink of sinks) sink.granted(leaseId, ttlMs);
  return { type: 'leaseGrant', revision: index, id: leaseId, ttlMs };
}

/**
 * Revokes lease `id` (only the one granted at `grantRevision`, unless that is 0) and deletes
 * every key attached to it at `index`, in key order, reporting them to `changes`. No such
 * lease: `{ revoked: false, deleted: 0 }`, nothing changed (revoke is idempotent).
 */
export function revokeLease(
  keys: KeySpace,
  table: LeaseTable,
  write: { readonly id: number; readonly grantRevision: number },
  index: number,
  changes: KvChange[] | null,
  sinks: readonly LeaseSink[],
): KvWriteResult {
  const info = table.get(write.id);
  if (info === undefined || (write.grantRevision !== 0 && info.grantRevision !== write.grantRevision)) {
    return { type: 'leaseRevoke', revision: index, revoked: false, deleted: 0 };
  }
  const r = table.revoke(write.id);
  invariant(r.ok, `kv lease ${write.id} vanished during its revoke`);
  for (const key of r.keys) {
    const prev = keys.delete(key);
    invariant(prev !== undefined && prev.lease === write.id, `kv lease ${write.id} held key ${JSON.stringify(key)}, whose record names lease ${prev?.lease}`);
    changes?.push({ type: 'delete', key, prev });
  }
  for (const sink of sinks) sink.revoked(write.id);
  return { type: 'leaseRevoke', revision: index, revoked: true, deleted: r.keys.length };
}

/**
 * Why `table` does not match the key records of `keys` (a corrupt snapshot), or undefined if
 * it does: every key naming a lease is attached to it, and no other key is attached to any.
 */
export function leaseMismatch(keys: KeySpace, table: LeaseTable): string | undefined {
  let leased = 0;
  for (const [key, rec] of keys.inOrder()) {
    if (rec.lease === 0) continue;
    if (!table.isAttached(key, rec.lease)) return `key ${JSON.stringify(key)} names lease ${rec.lease}, which does not hold it`;
    leased++;
  }
  if (leased !== table.attachedCount) return `the lease table holds ${table.attachedCount} keys, but ${leased} key records name a lease`;
  return undefined;
}

/**
 * Tells `sinks` how a restore changed the table: `revoked` for every lease gone, `granted`
 * for every lease new (by id and grant revision).
 */
export function reportRestoredLeases(before: LeaseTable, after: LeaseTable, sinks: readonly LeaseSink[]): void {
  if (sinks.length === 0) return;
  const now = new Map(after.list().map((l) => [l.id, l]));
  for (const old of before.list()) {
    if (now.get(old.id)?.grantRevision === old.grantRevision) now.delete(old.id);
    else for (const sink of sinks) sink.revoked(old.id);
  }
  for (const l of now.values()) for (const sink of sinks) sink.granted(l.id, l.ttlMs);
}

const withoutOk = <T extends { readonly ok: false }>(f: T): Omit<T, 'ok'> => {
  const { ok: _ok, ...rest } = f;
  return rest;
};
