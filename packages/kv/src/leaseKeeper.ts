import { NotLeaderError, type Clock } from '@raftkit/core';
import { invalidArgument } from './errors.js';
import { leaseNotFoundError } from './leaseErrors.js';

export interface LeaseKeeperOptions {
  /** The leader's clock: the only time source lease expiry uses. */
  readonly clock: Clock;
  /**
   * The cluster's election timeout in ms (electionTicks * tickMs; the longest a follower waits
   * before it campaigns). A new leader adds it to every lease's TTL.
   */
  readonly electionTimeoutMs: number;
  /**
   * Least time between two expiry scans, and the wait before a failed revoke is proposed again.
   * A lease is revoked at its deadline, or up to this much later when several expire close
   * together. Default 100 ms.
   */
  readonly checkIntervalMs?: number;
  /** Most ids handed to one `revoke` call; more expired leases make several calls. Default 1000. */
  readonly maxBatch?: number;
  /**
   * Proposes the revocation of expired leases through the log (`leaseRevoke { id, expired:
   * true }` each) and resolves once they applied. Resolve also for an id that is already gone
   * (KV_LEASE_NOT_FOUND): it is revoked either way. A rejection retries every id of the batch.
   */
  readonly revoke: (ids: number[]) => Promise<void>;
  /** Told of every failed revoke (before its retry), for logs. */
  readonly onRevokeError?: (err: unknown, ids: readonly number[]) => void;
}

/**
 * What the state machine tells of applied lease changes (on every replica; LeaseKeeper
 * ignores them unless it leads). Called synchronously inside `apply`: must not throw.
 */
export interface LeaseSink {
  granted(id: number, ttlMs: number): void;
  revoked(id: number): void;
}

interface Deadline {
  readonly id: number;
  readonly ttlMs: number;
  /** Leader's clock time at which the lease expires. Invariant: only keep-alives move it, later. */
  at: number;
  /** A revoke of this lease is proposed and not yet settled. */
  revoking: boolean;
}

const DEFAULT_CHECK_INTERVAL_MS = 100;
const DEFAULT_MAX_BATCH = 1000;

/**
 * The leader's lease clock (etcd's lessor, for the leader only). Expiry is decided here and
 * nowhere else: replicas never look at a clock for leases, they apply the leader's
 * `leaseRevoke` entries. The keeper holds one local deadline per lease and never lets a lease
 * expire before its holder could have seen it alive for its whole TTL:
 * - a grant applied while leader: deadline = now + ttl;
 * - a keep-alive (confirmed by readIndex by the caller): deadline = now + ttl;
 * - on becoming leader, deadlines of the old leader are unknown, so every lease gets
 *   now + ttl + electionTimeout (as etcd's `Promote` does). A keep-alive the old leader
 *   confirmed had its readIndex acknowledged by a quorum, which shares a voter with this
 *   node's election, and that voter acknowledged before it voted: so the old leader's
 *   deadline was at most one message delay past this election + ttl, and the election
 *   timeout added covers that delay and clocks running at slightly different rates.
 * A follower's keeper holds nothing and proposes nothing.
 *
 * Time is the injected Clock; only one timer exists, armed for the earliest deadline.
 */
export class LeaseKeeper implements LeaseSink {
  private readonly clock: Clock;
  private readonly electionTimeoutMs: number;
  private readonly checkIntervalMs: number;
  private readonly maxBatch: number;
  private readonly deadlines = new Map<number, Deadline>();
  /** Whether this node leads (between becameLeader and steppedDown). */
  private leading = false;
  /** Bumped on every leadership change, so a revoke settling later for an old term is ignored. */
  private generation = 0;
  private timer: unknown = null;
  /** When the armed timer fires. Invariant: null iff no timer is armed. */
  private armedAt: number | null = null;
  /** When the last scan ran, to keep scans `checkIntervalMs` apart. */
  private lastScan = -Infinity;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.clock = options.clock;
    this.electionTimeoutMs = nonNegative('electionTimeoutMs', options.electionTimeoutMs);
    this.checkIntervalMs = positive('checkIntervalMs', options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS);
    this.maxBatch = positiveInteger('maxBatch', options.maxBatch ?? DEFAULT_MAX_BATCH);
  }

  /** Whether the keeper runs (this node is leader). */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Number of leases with a deadline here. */
  get size(): number {
    return this.deadlines.size;
  }

  /**
   * This node became leader, with `leases` the applied table (LeaseTable.list()). Every lease
   * gets now + ttl + electionTimeout. Grants and revokes applied later come by `granted` and
   * `revoked`. Calling it again starts over.
   */
  becameLeader(leases: Iterable<{ readonly id: number; readonly ttlMs: number }>): void {
    this.reset();
    this.leading = true;
    const at = this.clock.now() + this.electionTimeoutMs;
    for (const l of leases) this.deadlines.set(l.id, { id: l.id, ttlMs: l.ttlMs, at: at + l.ttlMs, revoking: false });
    this.armFor(this.earliest());
  }

  /** This node is no longer leader (or stops): forget every deadline, propose nothing more. */
  steppedDown(): void {
    this.reset();
  }

  /** A grant applied on this node; while leader the lease gets now + ttl. */
  granted(id: number, ttlMs: number): void {
    if (!this.leading) return;
    const d: Deadline = { id, ttlMs, at: this.clock.now() + ttlMs, revoking: false };
    this.deadlines.set(id, d);
    this.armFor(d.at);
  }

  /** A revoke (or expiry) applied on this node: the lease is gone. */
  revoked(id: number): void {
    this.deadlines.delete(id);
  }

  /**
   * Resets lease `id` to now + ttl and returns that ttl (the time it now has left). Call it
   * only after a readIndex on this leader returned and the state machine applied up to it, so
   * a revoke committed earlier is already seen (then the lease is not found here).
   * @throws NotLeaderError if this node does not lead; KvError KV_LEASE_NOT_FOUND if the
   *   lease is unknown, expired (its deadline passed), or being revoked.
   */
  keepAlive(id: number): number {
    const d = this.live(id);
    d.at = this.clock.now() + d.ttlMs;
    return d.ttlMs;
  }

  /**
   * The time lease `id` has left by this leader's clock.
   * @throws like `keepAlive`.
   */
  remaining(id: number): number {
    return this.live(id).at - this.clock.now();
  }

  private live(id: number): Deadline {
    if (!this.leading) throw new NotLeaderError(null, 'lease deadlines are kept by the leader only: not the leader');
    const d = this.deadlines.get(id);
    // At its deadline the lease has had its whole TTL: it is expired, even before the scan ran.
    // (A lease being revoked is past its deadline, and nothing moves that deadline any more.)
    if (!d || this.clock.now() >= d.at) throw leaseNotFoundError(id);
    return d;
  }

  private reset(): void {
    this.leading = false;
    this.generation++;
    this.deadlines.clear();
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = null;
    this.lastScan = -Infinity;
  }

  /** Makes sure a scan runs at `at` (or when scans are next allowed), unless one comes earlier. */
  private armFor(at: number | undefined): void {
    if (at === undefined || !this.leading) return;
    const when = Math.max(at, this.lastScan + this.checkIntervalMs);
    if (this.armedAt !== null && this.armedAt <= when) return;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.armedAt = when;
    this.timer = this.clock.setTimeout(() => this.scan(), Math.max(0, when - this.clock.now()));
  }

  private scan(): void {
    this.timer = null;
    this.armedAt = null;
    if (!this.leading) return;
    const now = this.clock.now();
    this.lastScan = now;
    const expired: Deadline[] = [];
    let next: number | undefined;
    for (const d of this.deadlines.values()) {
      if (d.revoking) continue;
      if (d.at <= now) expired.push(d);
      else if (next === undefined || d.at < next) next = d.at;
    }
    // Ascending ids: the same leases expiring together are proposed in the same order.
    expired.sort((a, b) => a.id - b.id);
    for (let i = 0; i < expired.length; i += this.maxBatch) this.propose(expired.slice(i, i + this.maxBatch));
    this.armFor(next);
  }

  private propose(batch: Deadline[]): void {
    for (const d of batch) d.revoking = true;
    const generation = this.generation;
    const ids = batch.map((d) => d.id);
    let pending: Promise<void>;
    try {
      pending = this.options.revoke(ids);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      () => {
        if (generation !== this.generation) return;
        // Gone from the table now; delete only our own records (a new grant of the same id,
        // applied after the revoke, has a new one).
        for (const d of batch) if (this.deadlines.get(d.id) === d) this.deadlines.delete(d.id);
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        this.options.onRevokeError?.(err, ids);
        for (const d of batch) d.revoking = false;
        this.armFor(this.clock.now() + this.checkIntervalMs);
      },
    );
  }

  private earliest(): number | undefined {
    let min: number | undefined;
    for (const d of this.deadlines.values()) if (min === undefined || d.at < min) min = d.at;
    return min;
  }
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw invalidArgument(`${name} must be a positive number, got ${v}`);
  return v;
}

function positiveInteger(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw invalidArgument(`${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw invalidArgument(`${name} must be a non-negative number, got ${v}`);
  return v;
}
