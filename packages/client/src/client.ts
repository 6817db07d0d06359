import type { RetryOptions } from './backoff.js';
import { EndpointSet, normalizeEndpoint } from './endpoints.js';
import { ClientErrorCode, RaftkitClientError, isRaftkitClientError } from './errors.js';
import { HttpEngine, type Answer, type FetchLike, type RequestSpec } from './http.js';
import { SessionTracker, type WriteTag } from './session.js';
import type * as T from './types.js';
import { decodeValue, jsonValue, keyPath, putBody, checkValue, type KvValue } from './values.js';
import { watchEvents, type WatchOptions } from './watch.js';
import { decodeEntry, decodeTxnResult, encodeTxn } from './txnCodec.js';
import { snapshotDownload, type SnapshotDownload } from './snapshot.js';
import { keepAliveLoop, type KeepAliveLoopOptions } from './keepAlive.js';

export interface RaftkitClientOptions {
  /** Base URLs of the cluster's nodes (`http://host:port`); any of them will do. */
  readonly endpoints: readonly string[];
  /** Deadline of one call, retries included. Default 15000 ms. */
  readonly timeoutMs?: number;
  /** Deadline of one HTTP attempt. Default 7000 ms (the server's 5 s request timeout, plus its forward, plus margin). */
  readonly attemptTimeoutMs?: number;
  /** Backoff between retries (full jitter). Default { baseMs: 50, maxMs: 1000 }. */
  readonly retry?: RetryOptions;
  /** The fetch to use; default the global one. */
  readonly fetch?: FetchLike;
  /** Sent with every request (e.g. an auth header for a proxy in front). */
  readonly headers?: Readonly<Record<string, string>>;
}

const SESSION_GONE = new Set(['KV_SESSION_EXPIRED', 'KV_SESSION_UNKNOWN']);

/**
 * A client for a raftkit cluster over its HTTP API. It finds the leader, retries what is safe
 * to retry, and makes every write exactly-once through a session of its own.
 */
export class RaftkitClient {
  private readonly engine: HttpEngine;
  private readonly session: SessionTracker;
  private readonly retry: Required<RetryOptions>;

  constructor(options: RaftkitClientOptions) {
    const f = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (typeof f !== 'function') throw new RaftkitClientError(ClientErrorCode.InvalidArgument, 'no fetch: pass options.fetch (Node 20+ and browsers have a global one)');
    this.retry = { baseMs: options.retry?.baseMs ?? 50, maxMs: options.retry?.maxMs ?? 1000 };
    this.engine = new HttpEngine(new EndpointSet(options.endpoints), {
      timeoutMs: options.timeoutMs ?? 15_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 7_000,
      retry: this.retry,
      fetch: (input, init) => f(input, init),
      headers: options.headers ?? {},
      random: Math.random,
    });
    this.session = new SessionTracker(async () => {
      const a = await this.engine.request({ method: 'POST', path: '/v1/sessions', repeatable: true, what: 'open a session' });
      const id = (a.body as { clientId?: unknown })?.clientId;
      if (typeof id !== 'number') throw badBody('open a session', a);
      return id;
    });
  }

  /** The endpoints, normalized. */
  get endpoints(): readonly string[] {
    return this.engine.endpoints.endpoints;
  }

  /** The leader's URL as last learnt, or null. */
  get leaderUrl(): string | null {
    return this.engine.endpoints.leader;
  }

  /** The id of this client's session, once a write opened it. */
  get sessionId(): number | null {
    return this.session.clientId;
  }

  // ---- KV ----

  async put(key: string, value: KvValue, opts: T.PutOptions = {}): Promise<T.PutResult> {
    const { body, contentType } = putBody(value);
    const q = opts.lease !== undefined && opts.lease !== 0 ? `?lease=${encodeURIComponent(String(opts.lease))}` : '';
    const a = await this.write({ method: 'PUT', path: `/v1/kv/${keyPath(key)}${q}`, body, contentType, what: `put ${short(key)}` }, opts);
    return { revision: num(a, 'revision') };
  }

  async get(key: string, opts: T.ReadOptions = {}): Promise<T.GetResult> {
    const path = `/v1/kv/${keyPath(key)}${consistencyQuery(opts.consistency, '?')}`;
    try {
      const a = await this.read({ path, what: `get ${short(key)}` }, opts);
      const b = a.body as Record<string, unknown>;
      return { ...decodeEntry(b), revision: num(a, 'revision') } as T.GetResult;
    } catch (err) {
      if (isRaftkitClientError(err, 'KV_NOT_FOUND')) {
        return { key, value: null, revision: Number(err.details['revision'] ?? 0), modRevision: null };
      }
      throw err;
    }
  }

  async range(prefix: string, opts: T.ReadOptions & { limit?: number } = {}): Promise<T.RangeResult> {
    const q = new URLSearchParams({ prefix });
    if (opts.limit !== undefined) q.set('limit', String(opts.limit));
    if (opts.consistency !== undefined) q.set('consistency', opts.consistency);
    const a = await this.read({ path: `/v1/kv?${q.toString()}`, what: `range ${JSON.stringify(short(prefix))}` }, opts);
    const b = a.body as { entries?: unknown[]; more?: unknown };
    if (!Array.isArray(b?.entries)) throw badBody('range', a);
    return { revision: num(a, 'revision'), more: b.more === true, entries: b.entries.map((e) => decodeEntry(e as Record<string, unknown>)) };
  }

  async delete(key: string, opts: T.CallOptions = {}): Promise<T.DeleteResult> {
    const a = await this.write({ method: 'DELETE', path: `/v1/kv/${keyPath(key)}`, what: `delete ${short(key)}` }, opts);
    return { revision: num(a, 'revision'), deleted: (a.body as { deleted?: unknown }).deleted === true };
  }

  /** Sets `key` to `value` if it holds `expected` (null: if it is absent). Bytes and JSON do not mix in one call. */
  async cas(key: string, expected: KvValue | null, value: KvValue, opts: T.CallOptions = {}): Promise<T.CasResult> {
    checkValue(value);
    const bytes = value instanceof Uint8Array;
    if (expected !== null && expected instanceof Uint8Array !== bytes) {
      throw new RaftkitClientError(ClientErrorCode.InvalidArgument, 'cas: expected and value must both be bytes or both be JSON');
    }
    const enc = (v: KvValue | null): unknown => (v instanceof Uint8Array ? (jsonValue(v) as { base64: string }).base64 : v);
    const body = JSON.stringify({ expected: enc(expected), value: enc(value), encoding: bytes ? 'base64' : 'json' });
    const a = await this.write({ method: 'POST', path: `/v1/kv/${keyPath(key)}/cas`, body, what: `cas ${short(key)}` }, opts);
    const b = a.body as { ok?: unknown; current?: { value: unknown; encoding: unknown } | null };
    const out: T.CasResult = { revision: num(a, 'revision'), ok: b.ok === true };
    if (b.ok !== true) return { ...out, current: b.current == null ? null : decodeValue(b.current.value, b.current.encoding) };
    return out;
  }

  async txn(request: T.TxnRequest, opts: T.CallOptions = {}): Promise<T.TxnResult> {
    const a = await this.write({ method: 'POST', path: '/v1/txn', body: JSON.stringify(encodeTxn(request)), what: 'txn' }, opts);
    return decodeTxnResult(a.body);
  }

  // ---- leases ----

  async grantLease(ttlMs: number, opts: T.CallOptions & { id?: number } = {}): Promise<T.LeaseGrant> {
    const body = JSON.stringify({ ttlMs, ...(opts.id !== undefined ? { id: opts.id } : {}) });
    const a = await this.write({ method: 'POST', path: '/v1/leases', body, what: 'grant a lease' }, opts);
    return { revision: num(a, 'revision'), id: num(a, 'id'), ttlMs: num(a, 'ttlMs') };
  }

  async keepAlive(id: number, opts: T.CallOptions = {}): Promise<T.LeaseKeepAlive> {
    // Not written to the log: repeating it is harmless.
    const a = await this.call({ method: 'POST', path: `/v1/leases/${leaseId(id)}/keepalive`, repeatable: true, what: `keep lease ${id} alive` }, opts);
    return { id: num(a, 'id'), ttlMs: num(a, 'ttlMs') };
  }

  async revokeLease(id: number, opts: T.CallOptions = {}): Promise<T.LeaseRevoke> {
    const a = await this.write({ method: 'DELETE', path: `/v1/leases/${leaseId(id)}`, what: `revoke lease ${id}` }, opts);
    const b = a.body as { revoked?: unknown; deleted?: unknown };
    return { revision: num(a, 'revision'), revoked: b.revoked === true, deleted: typeof b.deleted === 'number' ? b.deleted : 0 };
  }

  async leases(opts: T.CallOptions = {}): Promise<T.LeaseInfo[]> {
    const a = await this.read({ path: '/v1/leases', what: 'list leases' }, opts);
    const l = (a.body as { leases?: unknown }).leases;
    if (!Array.isArray(l)) throw badBody('list leases', a);
    return l as T.LeaseInfo[];
  }

  async timeToLive(id: number, opts: T.CallOptions & { keys?: boolean } = {}): Promise<T.LeaseInfo> {
    const a = await this.read({ path: `/v1/leases/${leaseId(id)}${opts.keys ? '?keys=true' : ''}`, what: `lease ${id}` }, opts);
    return a.body as T.LeaseInfo;
  }

  /**
   * Keeps lease `id` alive until `signal` aborts (then resolves), renewing at a third of its
   * TTL. Rejects when the lease is gone (KV_LEASE_NOT_FOUND) or the cluster could not be
   * reached before the lease would have expired.
   */
  keepAliveLoop(id: number, opts: KeepAliveLoopOptions): Promise<void> {
    return keepAliveLoop((o) => this.keepAlive(id, o), opts);
  }

  // ---- watch ----

  /** Changes of a key or prefix as an async iterator; see watch.ts for the guarantees. */
  watch(opts: WatchOptions): AsyncIterable<T.WatchEvent> & AsyncIterator<T.WatchEvent> {
    if ((opts.key === undefined) === (opts.prefix === undefined)) throw new RaftkitClientError(ClientErrorCode.InvalidArgument, 'watch needs exactly one of key or prefix');
    const start = async (): Promise<number> => (await this.range(opts.key ?? opts.prefix!, { limit: 1, ...(opts.signal ? { signal: opts.signal } : {}) })).revision;
    return watchEvents(this.engine, this.retry, Math.random, opts, start);
  }

  // ---- cluster ----

  /** `GET /v1/status` of one endpoint (one attempt), or of the first that answers. */
  async status(opts: T.CallOptions & { endpoint?: string } = {}): Promise<T.NodeStatus> {
    return (await this.read({ path: '/v1/status', what: 'status', ...pin(opts.endpoint) }, opts)).body as T.NodeStatus;
  }

  /** `GET /healthz` of one endpoint (one attempt), or of the first that answers: resolves `{ status: 'ok' }`, rejects otherwise. */
  async health(opts: T.CallOptions & { endpoint?: string } = {}): Promise<{ status: string }> {
    return (await this.read({ path: '/healthz', what: 'health', ...pin(opts.endpoint) }, opts)).body as { status: string };
  }

  /** Runs `probe` against every endpoint at once; one report each, in endpoint order. */
  async probeAll<R>(probe: (endpoint: string) => Promise<R>): Promise<T.EndpointReport<R>[]> {
    return Promise.all(this.endpoints.map(async (endpoint) => {
      const t0 = Date.now();
      try {
        const result = await probe(endpoint);
        return { endpoint, ok: true as const, tookMs: Date.now() - t0, result };
      } catch (err) {
        const e = isRaftkitClientError(err) ? err : new RaftkitClientError(ClientErrorCode.BadResponse, String(err));
        return { endpoint, ok: false as const, tookMs: Date.now() - t0, error: { code: e.code, message: e.message } };
      }
    }));
  }

  async members(opts: T.CallOptions = {}): Promise<T.Membership> {
    return (await this.read({ path: '/v1/members', what: 'list members' }, opts)).body as T.Membership;
  }

  /** Adds a member (a learner first, for a voter). Idempotent: repeated after a lost answer as it is. */
  async addMember(member: { id: string; url: string; role?: 'voter' | 'learner' }, opts: T.CallOptions = {}): Promise<T.Membership> {
    return (await this.call({ method: 'POST', path: '/v1/members', body: JSON.stringify(member), repeatable: true, what: `add member ${member.id}` }, opts)).body as T.Membership;
  }

  /** Removes a member. A retry of a removal that applied answers SERVER_MEMBER_NOT_FOUND. */
  async removeMember(id: string, opts: T.CallOptions = {}): Promise<T.Membership> {
    return (await this.call({ method: 'DELETE', path: `/v1/members/${encodeURIComponent(id)}`, repeatable: true, what: `remove member ${id}` }, opts)).body as T.Membership;
  }

  async promoteMember(id: string, opts: T.CallOptions = {}): Promise<T.Membership> {
    return (await this.call({ method: 'POST', path: `/v1/members/${encodeURIComponent(id)}/promote`, repeatable: true, what: `promote member ${id}` }, opts)).body as T.Membership;
  }

  /** Hands leadership to `to` (default: the most up-to-date voter); resolves with the new leader's id. */
  async transferLeader(to?: string, opts: T.CallOptions = {}): Promise<{ leader: string }> {
    const body = JSON.stringify(to === undefined ? {} : { to });
    // Repeating a transfer to a named node is harmless; a transfer to "anyone" is not repeated.
    return (await this.call({ method: 'POST', path: '/v1/leader/transfer', body, repeatable: to !== undefined, what: 'transfer leadership' }, opts)).body as { leader: string };
  }

  /**
   * A backup of one node's state: takes a snapshot there now (unless `fresh: false`), then
   * streams it (the `raftkit-snapshot 1` file format of `raftkit-server restore`).
   */
  async snapshotSave(opts: T.CallOptions & { endpoint?: string; fresh?: boolean } = {}): Promise<SnapshotDownload> {
    let endpoint = opts.endpoint !== undefined ? normalizeEndpoint(opts.endpoint) : undefined;
    // Taking one is harmless to repeat; the download comes from the node that took it.
    if (opts.fresh !== false) endpoint = (await this.call({ method: 'POST', path: '/v1/snapshot', repeatable: true, what: 'take a snapshot', ...(endpoint !== undefined ? { endpoint } : {}) }, opts)).endpoint;
    endpoint ??= (await this.read({ path: '/healthz', what: 'find an endpoint' }, opts)).endpoint;
    const a = await this.call({ method: 'GET', path: '/v1/snapshot', repeatable: true, stream: true, what: 'download the snapshot', endpoint }, opts);
    return snapshotDownload(a, opts.signal);
  }

  // ---- plumbing ----

  private async call(spec: Omit<RequestSpec, 'signal' | 'timeoutMs'>, opts: T.CallOptions): Promise<Answer> {
    return this.engine.request({ ...spec, signal: opts.signal, timeoutMs: opts.timeoutMs });
  }

  private read(spec: { path: string; what: string; endpoint?: string; once?: boolean }, opts: T.CallOptions): Promise<Answer> {
    return this.call({ method: 'GET', repeatable: true, ...spec }, opts);
  }

  /**
   * A session-tagged write: its seq stays the same on every retry, so it applies once. If the
   * server no longer knows the session, a write that cannot have applied yet is tagged again
   * in a new session; one that may have applied under the old session is given up with
   * `outcomeUnknown` (exactly-once cannot be kept across a lost session).
   */
  private async write(spec: Omit<RequestSpec, 'signal' | 'timeoutMs' | 'repeatable' | 'headers'>, opts: T.CallOptions): Promise<Answer> {
    for (let sessions = 0; ; sessions++) {
      const tag: WriteTag = await this.session.tag((p) => bounded(p, opts, spec.what));
      try {
        return await this.call({ ...spec, repeatable: true, headers: () => this.session.headers(tag) }, opts);
      } catch (err) {
        if (!isRaftkitClientError(err) || !SESSION_GONE.has(err.code)) throw err;
        this.session.expired(tag);
        // err.outcomeUnknown: an earlier attempt of this write may have applied.
        if (err.outcomeUnknown || sessions >= 2) {
          throw new RaftkitClientError(err.code, `${err.message}; the write may have applied under the lost session, and was not sent again`, { status: err.status, endpoint: err.endpoint, outcomeUnknown: true, details: err.details, cause: err });
        }
      } finally {
        this.session.done(tag);
      }
    }
  }
}

/** `p`, or CLIENT_ABORTED / CLIENT_TIMEOUT as soon as the caller's signal or deadline says so. */
function bounded<V>(p: Promise<V>, opts: T.CallOptions, what: string): Promise<V> {
  if (opts.signal === undefined && opts.timeoutMs === undefined) return p;
  return new Promise<V>((resolve, reject) => {
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => reject(new RaftkitClientError(ClientErrorCode.Timeout, `${what}: no session within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = (): void => reject(new RaftkitClientError(ClientErrorCode.Aborted, `${what} was aborted`, { cause: opts.signal?.reason }));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    });
  });
}

/** A key as messages show it: at most 80 characters. */
function short(key: string): string {
  return key.length > 80 ? `${key.slice(0, 77)}...` : key;
}

/** Only `endpoint`, and a probe of it is one attempt. */
function pin(endpoint: string | undefined): { endpoint?: string; once?: boolean } {
  return endpoint === undefined ? {} : { endpoint, once: true };
}

function consistencyQuery(c: T.Consistency | undefined, sep: string): string {
  return c === undefined ? '' : `${sep}consistency=${encodeURIComponent(c)}`;
}

function leaseId(id: number): string {
  if (!Number.isSafeInteger(id) || id < 1) throw new RaftkitClientError(ClientErrorCode.InvalidArgument, `a lease id is a positive integer, got ${id}`);
  return String(id);
}

function badBody(what: string, a: Answer): RaftkitClientError {
  return new RaftkitClientError(ClientErrorCode.BadResponse, `${what}: ${a.endpoint} answered ${a.status} with an unexpected body`, { status: a.status, endpoint: a.endpoint });
}

function num(a: Answer, field: string): number {
  const v = (a.body as Record<string, unknown> | undefined)?.[field];
  if (typeof v !== 'number') throw badBody(field, a);
  return v;
}
