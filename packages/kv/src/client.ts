import { ErrorCode, RaftError, isRaftError, realClock, type Clock } from '@raftkit/core';
import { KvSession } from './clientSession.js';
import { encodeCommand, type KvCommand, type KvWrite, type SessionTag } from './commands.js';
import { KvError, KvErrorCode, isKvError } from './errors.js';
import { checkedLeaseId, keepAliveOn, timeToLiveOn } from './leaseClient.js';
import { checkSignal, signalled, throwIfAborted, untilAborted } from './signals.js';
import { buildWrite, toPublicResult } from './requests.js';
import type { KvCommandResult } from './results.js';
import { Router, type ReplicaSource, type RequestKind } from './router.js';
import type {
  CasResult,
  DeleteResult,
  GetResult,
  GrantLeaseOptions,
  KvLeaseRequest,
  KvReplica,
  KvWriteRequest,
  LeaseGrantResult,
  LeaseKeepAliveResult,
  LeaseRevokeResult,
  LeaseTimeToLive,
  PutOptions,
  KvWriteResults,
  PutManyResult,
  PutResult,
  RangeOptions,
  RangeResult,
  ReadOptions,
  TimeToLiveOptions,
  TxnRequest,
  TxnResult,
  WriteOptions,
} from './types.js';
import { checkConsistency, checkCount, checkDuration, checkKey, checkOptions, checkPrefix, checkTag, type Consistency } from './validate.js';
import { fromStoredValue, type KvValue } from './values.js';
import type { WatchFilter, WatchStream } from './watch.js';
import { watchThrough, type ClientWatchOptions } from './watchClient.js';

export interface KvClientOptions {
  /** Timers for deadlines and retry pauses. Default: the replica's clock, else real timers. */
  readonly clock?: Clock;
  /**
   * Wall clock stamped on every command; the log clock that expires sessions is the largest
   * stamp applied. Default `Date.now`. Must be comparable across machines (not performance.now).
   */
  readonly wallClock?: () => number;
  /** Deadline of a call, retries included. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Deadline of one attempt (one propose or readIndex). Default 2 000 ms. */
  readonly attemptTimeoutMs?: number;
  /** Pause before retrying once every replica has failed in a row. Default 50 ms. */
  readonly retryDelayMs?: number;
  /** Largest value in bytes (JSON: its UTF-8 text). Default 1 MiB. */
  readonly maxValueBytes?: number;
  /** Most entries in one putMany. Default 1000. */
  readonly maxBatchEntries?: number;
  /** Consistency of reads that do not say. Default 'linearizable'. */
  readonly consistency?: Consistency;
  /** Use this session (e.g. shared with a client on another node) instead of opening one. */
  readonly session?: KvSession;
}

type Settings = Required<Omit<KvClientOptions, 'session' | 'clock'>>;

const DEFAULT_RANGE_LIMIT = 1000;

/**
 * Typed access to a replicated kv store through one or more replicas.
 *
 * Writes go through the log, tagged with this client's session so that a write retried
 * after a timeout or a leader change applies exactly once (thesis §6.3). Reads do not touch
 * the log: 'linearizable' waits for a ReadIndex (thesis §6.4), 'lease' for a leader lease
 * read (§6.4.1), 'stale' reads the local replica as is.
 *
 * Errors: KvError (validation, session, ...) or, passed through, the core's RaftErrors:
 * NotLeaderError (with leaderHint) when a single replica is not the leader, RAFT_TIMEOUT,
 * RAFT_STOPPED. A write that fails with a RaftError may or may not have applied.
 */
export class KvClient {
  private readonly router: Router;
  private readonly clock: Clock;
  private readonly settings: Settings;
  private currentSession: KvSession | null;
  private opening: Promise<KvSession> | null = null;

  constructor(replicas: ReplicaSource, options: KvClientOptions = {}) {
    const o = checkOptions<KvClientOptions>(options, 'options');
    this.router = new Router(replicas);
    this.clock = o.clock ?? this.router.target('read')?.clock ?? realClock;
    this.settings = {
      wallClock: o.wallClock ?? Date.now,
      timeoutMs: checkDuration(o.timeoutMs, 'timeoutMs', 10_000),
      attemptTimeoutMs: checkDuration(o.attemptTimeoutMs, 'attemptTimeoutMs', 2_000),
      retryDelayMs: checkDuration(o.retryDelayMs, 'retryDelayMs', 50),
      maxValueBytes: checkCount(o.maxValueBytes, 'maxValueBytes', 1024 * 1024),
      maxBatchEntries: checkCount(o.maxBatchEntries, 'maxBatchEntries', 1000),
      consistency: checkConsistency(o.consistency, 'linearizable'),
    };
    this.currentSession = o.session ?? null;
  }

  /** The session writes use, or null until one is opened (the first write opens one). */
  get session(): KvSession | null {
    return this.currentSession;
  }

  /** Registers a new session through the log; later writes use it. */
  async openSession(opts: WriteOptions = {}): Promise<KvSession> {
    const clientId = await this.registerSession(opts);
    this.currentSession = new KvSession(clientId);
    return this.currentSession;
  }

  /** Ends this client's session (its cached results are dropped on every replica). */
  async closeSession(opts: WriteOptions = {}): Promise<void> {
    const s = this.currentSession;
    if (!s) return;
    this.currentSession = null;
    try {
      await this.sessionCommand({ type: 'closeSession', stamp: this.stamp(), clientId: s.clientId }, opts);
    } catch (err) {
      // Already gone (expired, or closed by an earlier attempt of this very call): done.
      if (!isKvError(err, KvErrorCode.SessionExpired)) throw err;
    }
  }

  /**
   * Without a lease id: refreshes the session's last use, so an idle client's session does
   * not expire. With one: the lease keep-alive, on the leader, confirmed by a ReadIndex and
   * not written to the log; resolves with the TTL it now has (leaseClient.ts).
   */
  keepAlive(opts?: WriteOptions): Promise<void>;
  keepAlive(lease: number, opts?: WriteOptions): Promise<LeaseKeepAliveResult>;
  keepAlive(a?: number | WriteOptions, opts?: WriteOptions): Promise<void | LeaseKeepAliveResult> {
    if (typeof a !== 'number') return this.keepSessionAlive(a);
    return this.onLeader(opts, (r, attempt) => keepAliveOn(r, checkedLeaseId(a), attempt));
  }

  /** Grants a lease through the log, exactly once; `id` 0 or omitted: the grant's revision. */
  grantLease(ttlMs: number, opts?: GrantLeaseOptions): Promise<LeaseGrantResult> {
    return this.write({ op: 'leaseGrant', ttlMs, ...(opts?.id !== undefined && { id: opts.id }) }, opts);
  }

  /** Revokes a lease through the log, deleting its keys at that revision; no such lease: `revoked` false. */
  revokeLease(id: number, opts?: WriteOptions): Promise<LeaseRevokeResult> {
    return this.write({ op: 'leaseRevoke', id }, opts);
  }

  /** Every lease id, ascending, read like a range at the requested consistency. */
  async leases(opts?: ReadOptions): Promise<number[]> {
    const { replica } = await this.readPoint(checkOptions<ReadOptions>(opts, 'options'));
    return replica.machine.leaseList().map((l) => l.id);
  }

  /** A lease's time left by the leader's clock, granted TTL and (with `keys`) attached keys. */
  timeToLive(id: number, opts?: TimeToLiveOptions): Promise<LeaseTimeToLive> {
    return this.onLeader(opts, (r, attempt) => timeToLiveOn(r, checkedLeaseId(id), opts?.keys === true, attempt));
  }

  private async keepSessionAlive(opts: WriteOptions = {}): Promise<void> {
    const s = await this.ensureSession(opts);
    try {
      await this.sessionCommand({ type: 'keepAlive', stamp: this.stamp(), clientId: s.clientId }, opts);
    } catch (err) {
      this.forgetIfGone(s, err);
      throw err;
    }
  }

  /** `lease`: attach the key to that lease (it must exist: KV_LEASE_NOT_FOUND, nothing written). */
  put(key: string, value: KvValue, opts?: PutOptions): Promise<PutResult> {
    const lease = opts?.lease;
    return this.write(lease === undefined ? { op: 'put', key, value } : { op: 'put', key, value, lease }, opts);
  }

  delete(key: string, opts?: WriteOptions): Promise<DeleteResult> {
    return this.write({ op: 'delete', key }, opts);
  }

  /** Sets `value` iff `key` holds `expected` (null: iff the key is absent). */
  cas(key: string, expected: KvValue | null, value: KvValue, opts?: WriteOptions): Promise<CasResult> {
    return this.write({ op: 'cas', key, expected, value }, opts);
  }

  /** Puts every entry atomically, at one revision. Keys must be distinct. */
  putMany(entries: readonly (readonly [string, KvValue])[], opts?: WriteOptions): Promise<PutManyResult> {
    return this.write({ op: 'putMany', entries }, opts);
  }

  /**
   * An etcd-style transaction: if every compare holds, runs `success`, else `failure`, all
   * atomically at one revision, exactly once like any write. A key may be written at most
   * once per branch; at most `maxBatchEntries` compares + ops.
   */
  txn(request: TxnRequest, opts?: WriteOptions): Promise<TxnResult> {
    if (typeof request !== 'object' || request === null) return Promise.reject(new KvError(KvErrorCode.InvalidArgument, 'txn request must be an object'));
    return this.write({ op: 'txn', compare: request.compare, success: request.success, failure: request.failure }, opts);
  }

  async get(key: string, opts?: ReadOptions): Promise<GetResult> {
    const o = checkOptions<ReadOptions>(opts, 'options');
    checkKey(key);
    const { replica, index } = await this.readPoint(o);
    const rec = replica.machine.read(key);
    const revision = Math.max(replica.machine.revision, index);
    if (!rec) return { revision, value: null, modRevision: null, createRevision: null, version: 0 };
    return { revision, value: fromStoredValue(rec.value), modRevision: rec.modRevision, createRevision: rec.createRevision, version: rec.version };
  }

  /** Keys starting with `prefix` ('' for all), in key order, at most `limit`. */
  async range(prefix: string, opts?: RangeOptions): Promise<RangeResult> {
    const o = checkOptions<RangeOptions>(opts, 'options');
    checkPrefix(prefix);
    const limit = checkCount(o.limit, 'limit', DEFAULT_RANGE_LIMIT);
    const { replica, index } = await this.readPoint(o);
    const { entries, more } = replica.machine.readRange(prefix, limit);
    const revision = Math.max(replica.machine.revision, index);
    return {
      revision,
      more,
      entries: entries.map(([key, r]) => ({ key, value: fromStoredValue(r.value), modRevision: r.modRevision, createRevision: r.createRevision, version: r.version })),
    };
  }

  /** Watches a key or prefix from the replica a read is served from; see watchClient.ts. */
  async watch(filter: WatchFilter, opts?: ClientWatchOptions): Promise<WatchStream> {
    return watchThrough((o) => this.readPoint(o), filter, checkOptions<ClientWatchOptions>(opts, 'options'));
  }

  /**
   * Lower level: proposes `request` under an explicit session tag, e.g. one a server took
   * from a request's idempotency headers, or with `null` for no deduplication at all.
   * Retries with the same tag, so a repeated (clientId, seq) applies once.
   */
  async proposeWrite<K extends (KvWriteRequest | KvLeaseRequest)['op']>(
    request: Extract<KvWriteRequest | KvLeaseRequest, { op: K }>,
    tag: SessionTag | null,
    opts?: WriteOptions,
  ): Promise<KvWriteResults[K]> {
    const o = checkOptions<WriteOptions>(opts, 'options');
    const write = buildWrite(request, this.settings);
    const checked = tag === null ? null : checkTag(tag);
    const result = await this.propose(() => this.writeCommand(write, checked), o, checked !== null);
    return toPublicResult(request.op, result) as KvWriteResults[K];
  }

  /** Lower level: registers a session and returns its client id. */
  async registerSession(opts: WriteOptions = {}): Promise<number> {
    const result = await this.sessionCommand({ type: 'registerSession', stamp: this.stamp() }, opts);
    return result.clientId;
  }

  private async write<K extends (KvWriteRequest | KvLeaseRequest)['op']>(
    request: Extract<KvWriteRequest | KvLeaseRequest, { op: K }>,
    opts?: WriteOptions,
  ): Promise<KvWriteResults[K]> {
    const o = checkOptions<WriteOptions>(opts, 'options');
    const write = buildWrite(request, this.settings);
    const session = await this.ensureSession(o);
    const seq = session.begin();
    try {
      const result = await this.propose(() => this.writeCommand(write, session.tag(seq)), o);
      return toPublicResult(request.op, result) as KvWriteResults[K];
    } catch (err) {
      this.forgetIfGone(session, err);
      throw err;
    } finally {
      session.finish(seq);
    }
  }

  /** The state machine no longer knows `session`: the next write opens a new one. */
  private forgetIfGone(session: KvSession, err: unknown): void {
    const gone = isKvError(err, KvErrorCode.SessionExpired) || isKvError(err, KvErrorCode.SessionUnknown);
    if (gone && this.currentSession === session) this.currentSession = null;
  }

  private writeCommand(write: KvWrite, session: SessionTag | null): KvCommand {
    return { type: 'write', stamp: this.stamp(), session, write };
  }

  /** The current session, opening one (once, however many writes wait) if there is none. */
  private async ensureSession(opts: WriteOptions): Promise<KvSession> {
    if (this.currentSession) return this.currentSession;
    const signal = checkSignal(opts.signal);
    throwIfAborted(signal);
    // Shared by every write that waits for it, so no one caller's signal may cancel it.
    this.opening ??= this.openSession(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }).finally(() => (this.opening = null));
    return signal ? untilAborted(this.opening, signal) : this.opening;
  }

  private async sessionCommand(cmd: KvCommand, opts: WriteOptions): Promise<{ clientId: number }> {
    const o = checkOptions<WriteOptions>(opts, 'options');
    const result = await this.propose(() => cmd, o);
    if (result.type !== 'session') throw unexpected(result);
    return result;
  }

  /** Proposes until applied or the deadline passes; an error result becomes a KvError. */
  /**
   * `deduplicated`: the command carries a session tag, so re-proposing it after an outcome
   * that is unknown (timeout, dropped, node stopped) is safe. Without one it could apply twice,
   * so only answers that prove it was never proposed ("not leader") are retried.
   */
  private async propose(command: () => KvCommand, opts: WriteOptions, deduplicated = true): Promise<KvCommandResult> {
    const result = await this.withRetries('write', opts, async (replica, timeoutMs) => {
      try {
        return checkResult(await replica.node.propose(encodeCommand(command()), signalled({ timeoutMs }, opts.signal)));
      } catch (err) {
        if (!deduplicated && isRaftError(err) && err.code !== ErrorCode.NotLeader) throw new FinalError(err);
        throw err;
      }
    });
    if (result.type === 'error') throw new KvError(result.code, result.message);
    return result;
  }

  /** Runs a leader-side lease call with the retries and routing of a write (not logged). */
  private onLeader<T>(opts: WriteOptions | undefined, call: (replica: KvReplica, attempt: { timeoutMs: number; signal?: AbortSignal }) => Promise<T>): Promise<T> {
    const o = checkOptions<WriteOptions>(opts, 'options');
    return this.withRetries('write', o, (replica, timeoutMs) => call(replica, signalled({ timeoutMs }, o.signal)));
  }

  /** Waits until a replica may serve a read at the requested consistency. */
  private async readPoint(opts: ReadOptions): Promise<{ replica: KvReplica; index: number }> {
    const consistency = checkConsistency(opts.consistency, this.settings.consistency);
    if (consistency === 'stale') {
      throwIfAborted(checkSignal(opts.signal));
      const replica = this.router.target('read');
      if (!replica) throw noReplica();
      return { replica, index: 0 };
    }
    return this.withRetries('read', opts, async (replica, timeoutMs) => {
      if (consistency === 'lease' && replica.checkQuorum !== true) {
        throw new KvError(KvErrorCode.LeaseUnavailable, `lease reads need check-quorum, which node ${replica.node.id} is not known to run`);
      }
      const index = await replica.node.readIndex(signalled({ timeoutMs, lease: consistency === 'lease' }, opts.signal));
      return { replica, index };
    });
  }

  /**
   * Runs `attempt` against the routed replica until it succeeds, fails for good, or the
   * call's deadline passes. Pauses only after every replica failed in a row, so a dead
   * cluster costs virtual time instead of spinning.
   */
  private async withRetries<T>(kind: RequestKind, opts: WriteOptions, attempt: (r: KvReplica, timeoutMs: number) => Promise<T>): Promise<T> {
    const deadline = this.clock.now() + checkDuration(opts.timeoutMs, 'timeoutMs', this.settings.timeoutMs);
    const signal = checkSignal(opts.signal);
    for (let failures = 1; ; failures++) {
      throwIfAborted(signal);
      const replica = this.router.target(kind);
      const timeoutMs = Math.max(1, Math.min(this.settings.attemptTimeoutMs, deadline - this.clock.now()));
      try {
        if (!replica) throw noReplica();
        const value = await attempt(replica, timeoutMs);
        this.router.succeeded(kind, replica);
        return value;
      } catch (caught) {
        if (caught instanceof FinalError) throw caught.error;
        // Aborted: the signal's reason, whatever the attempt failed with meanwhile.
        throwIfAborted(signal);
        const err = caught;
        const pause = failures < this.router.size ? 0 : this.settings.retryDelayMs;
        const again = replica ? this.router.reroute(kind, replica, err) : this.router.size === 0;
        if (!again || this.clock.now() + pause >= deadline) throw err;
        if (pause > 0) await this.sleep(pause, signal);
      }
    }
  }

  /** A pause between retries; an abort ends it at once (the loop then rejects with the reason). */
  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      signal?.addEventListener('abort', wake, { once: true });
      this.clock.setTimeout(wake, ms);
    });
  }

  private stamp(): number {
    const now = Math.floor(this.settings.wallClock());
    return Number.isSafeInteger(now) && now >= 0 ? now : 0;
  }
}

/** Wraps an error that must end the retries at once (an unknown outcome of a write without a session). */
class FinalError {
  constructor(readonly error: unknown) {}
}

/** No replica is running right now (a replica source may list none while nodes restart). */
const noReplica = (): RaftError => new RaftError(ErrorCode.Stopped, 'no replica is available');

const RESULT_TYPES: ReadonlySet<unknown> = new Set(['put', 'delete', 'cas', 'putMany', 'txn', 'leaseGrant', 'leaseRevoke', 'session', 'error']);

/** The node's answer must come from a KvStateMachine. */
function checkResult(r: unknown): KvCommandResult {
  const ok = typeof r === 'object' && r !== null && RESULT_TYPES.has((r as KvCommandResult).type);
  if (!ok) throw new KvError(KvErrorCode.UnexpectedResult, 'the node did not answer with a kv result: is its state machine a KvStateMachine?');
  return r as KvCommandResult;
}

function unexpected(result: KvCommandResult): KvError {
  return new KvError(KvErrorCode.UnexpectedResult, `unexpected ${result.type} result at revision ${result.revision}`);
}
