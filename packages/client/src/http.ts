import { backoffMs, linkedController, sleep, type RetryOptions } from './backoff.js';
import { EndpointSet, normalizeEndpoint } from './endpoints.js';
import { ClientErrorCode, RaftkitClientError, dispositionOf, moveOnCodes } from './errors.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface RequestSpec {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query, starting with '/'. */
  readonly path: string;
  readonly body?: string | Uint8Array;
  readonly contentType?: string;
  /** Headers computed again for every attempt (a session tag's first outstanding seq moves). */
  readonly headers?: () => Record<string, string>;
  /**
   * Whether the request may be sent again after an attempt whose outcome is unknown: reads, a
   * session-tagged write, an idempotent change. A write that is not is never resent after it
   * may have reached a server.
   */
  readonly repeatable: boolean;
  /** Only this endpoint (no leader preference, no moving on). */
  readonly endpoint?: string;
  /** One attempt only (a probe of one endpoint: its answer now, not after retries). */
  readonly once?: boolean;
  /** Hand back the response with its body unread (2xx only). */
  readonly stream?: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
  /** A short name for messages ("put user/1"). */
  readonly what: string;
}

export interface Answer {
  readonly status: number;
  readonly endpoint: string;
  readonly headers: Headers;
  /** The parsed JSON body (undefined when `stream`, or when not JSON). */
  readonly body: unknown;
  /** Only with `stream`: the unread response (the caller's signal still aborts it). */
  readonly response?: Response;
  /** Only with `stream`: drops the links to the signals once the body is done with. */
  release(): void;
}

export interface HttpOptions {
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly retry: Required<RetryOptions>;
  readonly fetch: FetchLike;
  readonly headers: Readonly<Record<string, string>>;
  readonly random: () => number;
}

/** Errors from fetch that prove nothing left this machine (so nothing can have applied). */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

/** The innermost message of an error chain (fetch's own says only "fetch failed"). */
function causeMessage(err: unknown): string {
  let msg = String((err as Error)?.message ?? err);
  for (let e = (err as { cause?: unknown })?.cause, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if (typeof (e as Error).message === 'string' && (e as Error).message) msg = (e as Error).message;
  }
  return msg;
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sends one request to the cluster: to the leader first when it is known, retrying with
 * backoff what the server README marks safe to retry, moving to the next endpoint after a
 * connection error, following 307s, until the call's deadline.
 */
export class HttpEngine {
  private discovering: Promise<void> | null = null;

  constructor(readonly endpoints: EndpointSet, private readonly opts: HttpOptions) {}

  async request(spec: RequestSpec): Promise<Answer> {
    const timeoutMs = spec.timeoutMs ?? this.opts.timeoutMs;
    const call = linkedController([spec.signal], timeoutMs);
    let attempt = 0;
    let redirects = 0;
    let maybeApplied = false;
    let last: RaftkitClientError | null = null;
    /** The last answer a server gave (a refusal); what a call that ran out of time reports. */
    let lastRefusal: RaftkitClientError | null = null;
    let redirectTo: string | null = null;
    try {
      if (spec.endpoint === undefined && this.endpoints.leader === null && spec.method !== 'GET') await this.discover(call.signal);
      for (;;) {
        if (call.signal.aborted) break;
        const url = redirectTo ?? (spec.endpoint !== undefined ? normalizeEndpoint(spec.endpoint) : this.endpoints.pick());
        redirectTo = null;
        const outcome = await this.attempt(spec, url, call.signal);
        if (outcome.kind === 'ok') return outcome.answer;
        if (outcome.kind === 'redirect' && redirects++ < 5) {
          this.endpoints.learnLeader(outcome.location);
          redirectTo = normalizeEndpoint(outcome.location);
          continue;
        }
        if (outcome.kind === 'redirect') {
          last = new RaftkitClientError(ClientErrorCode.BadResponse, `${spec.what}: too many redirects (last to ${outcome.location})`, { endpoint: url, status: 307 });
          break;
        }
        const err = outcome.error;
        // An attempt the call's own deadline cut short says nothing about its endpoint: what the
        // attempts before it found is the better report (every endpoint refusing connections is
        // CLIENT_UNAVAILABLE, not a timeout, however the deadline falls).
        if (!(outcome.kind === 'failed' && outcome.cutByDeadline && last !== null)) last = err;
        if (outcome.kind === 'refused') lastRefusal = err;
        const disposition = outcome.kind === 'refused' ? dispositionOf(err.code, err.status) : outcome.sent ? 'unknown' : 'retry';
        if (disposition === 'unknown') maybeApplied = true;
        if (spec.signal?.aborted) break;
        if (disposition === 'fix') throw this.finalError(err, maybeApplied && spec.method !== 'GET');
        if (disposition === 'unknown' && !spec.repeatable) throw this.finalError(err, true);
        if (spec.once) throw this.finalError(err, maybeApplied && spec.method !== 'GET');
        if (outcome.kind !== 'refused' || moveOnCodes.has(err.code)) this.endpoints.failed(url);
        // A follower that could not reach its leader names it: that URL is the one that failed.
        const deadLeader = err.details['leaderUrl'];
        if ((err.code === 'SERVER_FORWARD_FAILED' || err.code === 'SERVER_OUTCOME_UNKNOWN') && typeof deadLeader === 'string') this.endpoints.failed(safeNormalize(deadLeader));
        else if (err.code === 'RAFT_NOT_LEADER' || err.code === 'RAFT_TRANSFER_IN_PROGRESS') this.endpoints.forgetLeader();
        await sleep(backoffMs(attempt++, this.opts.retry, this.opts.random), call.signal, spec.what).catch(() => undefined);
        if (!call.signal.aborted && spec.endpoint === undefined && this.endpoints.leader === null && spec.method !== 'GET') await this.discover(call.signal);
      }
      if (spec.signal?.aborted) {
        throw new RaftkitClientError(ClientErrorCode.Aborted, `${spec.what} was aborted`, { cause: spec.signal.reason, outcomeUnknown: maybeApplied && spec.method !== 'GET', endpoint: last?.endpoint ?? null });
      }
      const unknown = maybeApplied && spec.method !== 'GET';
      if (lastRefusal) throw this.finalError(lastRefusal, unknown, ` (gave up after ${timeoutMs} ms)`);
      const code = last?.code === ClientErrorCode.Timeout ? ClientErrorCode.Timeout : ClientErrorCode.Unavailable;
      const msg = code === ClientErrorCode.Unavailable
        ? `${spec.what}: no endpoint answered within ${timeoutMs} ms (tried ${spec.endpoint ?? this.endpoints.endpoints.join(', ')})${last ? `; last: ${last.message}` : ''}`
        : `${spec.what}: no answer within ${timeoutMs} ms${last ? `; last: ${last.message}` : ''}`;
      throw new RaftkitClientError(code, msg, { endpoint: last?.endpoint ?? null, outcomeUnknown: unknown, cause: last ?? undefined });
    } finally {
      call.dispose();
    }
  }

  private finalError(err: RaftkitClientError, outcomeUnknown: boolean, suffix = ''): RaftkitClientError {
    if (err.outcomeUnknown === outcomeUnknown && suffix === '') return err;
    return new RaftkitClientError(err.code, `${err.message}${suffix}`, { status: err.status, endpoint: err.endpoint, outcomeUnknown, details: err.details, cause: err.cause });
  }

  private async attempt(spec: RequestSpec, url: string, callSignal: AbortSignal): Promise<
    | { kind: 'ok'; answer: Answer }
    | { kind: 'redirect'; location: string }
    | { kind: 'refused'; error: RaftkitClientError }
    | { kind: 'failed'; error: RaftkitClientError; sent: boolean; cutByDeadline?: boolean }
  > {
    // The caller's own signal too: a streamed body outlives the call's controller.
    const one = linkedController([callSignal, spec.signal], this.opts.attemptTimeoutMs);
    const headers: Record<string, string> = { accept: 'application/json', ...this.opts.headers, ...(spec.headers?.() ?? {}) };
    if (spec.body !== undefined) headers['content-type'] = spec.contentType ?? 'application/json';
    let res: Response;
    try {
      res = await this.opts.fetch(`${url}${spec.path}`, { method: spec.method, headers, body: spec.body as RequestInit['body'], redirect: 'manual', signal: one.signal });
    } catch (err) {
      one.dispose();
      const code = causeCode(err);
      // The attempt's own timer, or the call's deadline (the caller's abort is told apart later).
      const timedOut = one.timedOut() || callSignal.reason === 'timeout';
      const message = timedOut ? `${spec.what}: ${url} did not answer within ${this.opts.attemptTimeoutMs} ms` : `${spec.what}: ${url} unreachable (${code ?? causeMessage(err)})`;
      return {
        kind: 'failed',
        sent: spec.body === undefined && spec.method === 'GET' ? false : !(code !== undefined && notSentCodes.has(code)),
        error: new RaftkitClientError(timedOut ? ClientErrorCode.Timeout : ClientErrorCode.Unavailable, message, { endpoint: url, cause: err }),
        cutByDeadline: !one.timedOut() && callSignal.reason === 'timeout',
      };
    }
    if (res.status >= 300 && res.status < 400) {
      one.dispose();
      await res.body?.cancel().catch(() => undefined);
      const location = res.headers.get('location');
      if (location === null) return { kind: 'refused', error: new RaftkitClientError(ClientErrorCode.BadResponse, `${spec.what}: ${res.status} from ${url} without a Location`, { status: res.status, endpoint: url }) };
      return { kind: 'redirect', location: new URL(location, `${url}/`).toString().replace(/\/v1\/.*$|\/healthz.*$|\/readyz.*$/, '') };
    }
    const forwardedTo = res.headers.get('x-raftkit-forwarded-to');
    if (res.ok && spec.stream) {
      // The body is read for as long as it lasts: no attempt deadline for it.
      one.clearTimer();
      if (forwardedTo && spec.endpoint === undefined) this.endpoints.learnLeader(forwardedTo);
      return { kind: 'ok', answer: { status: res.status, endpoint: url, headers: res.headers, body: undefined, response: res, release: () => one.dispose() } };
    }
    let body: unknown;
    try {
      body = await readJson(res);
    } catch (err) {
      const timedOut = one.timedOut();
      one.dispose();
      return { kind: 'failed', sent: true, error: new RaftkitClientError(timedOut ? ClientErrorCode.Timeout : ClientErrorCode.Unavailable, `${spec.what}: the answer from ${url} was cut off`, { endpoint: url, cause: err }) };
    }
    one.dispose();
    if (res.ok) {
      if (forwardedTo && spec.endpoint === undefined) this.endpoints.learnLeader(forwardedTo);
      return { kind: 'ok', answer: { status: res.status, endpoint: url, headers: res.headers, body, release: () => undefined } };
    }
    return { kind: 'refused', error: refusal(body, res.status, url, spec.what) };
  }

  /**
   * Learns the leader's URL from /v1/status, asking every endpoint at once and taking the first
   * answer that names one (a paused node does not hold it up). Never throws.
   */
  discover(signal: AbortSignal): Promise<void> {
    this.discovering ??= new Promise<void>((resolve) => {
      const one = linkedController([signal], Math.min(this.opts.attemptTimeoutMs, 2000));
      let left = this.endpoints.endpoints.length;
      const finish = (): void => {
        one.abort();
        resolve();
      };
      for (const url of this.endpoints.endpoints) {
        void (async () => {
          try {
            const res = await this.opts.fetch(`${url}/v1/status`, { method: 'GET', headers: { accept: 'application/json', ...this.opts.headers }, signal: one.signal });
            const body = (await readJson(res)) as { leaderUrl?: unknown } | undefined;
            if (res.ok && typeof body?.leaderUrl === 'string' && !one.signal.aborted) {
              this.endpoints.learnLeader(body.leaderUrl, true);
              if (this.endpoints.leader !== null) finish();
            }
          } catch {
            // Not this one.
          } finally {
            if (--left === 0) finish();
          }
        })();
      }
    }).finally(() => {
      this.discovering = null;
    });
    return this.discovering;
  }
}

function safeNormalize(url: string): string {
  try {
    return normalizeEndpoint(url);
  } catch {
    return url;
  }
}

/** A server's coded refusal `{ error: { code, message, ... } }` as an error. */
export function refusal(body: unknown, status: number, endpoint: string, what: string): RaftkitClientError {
  const e = (body as { error?: Record<string, unknown> } | undefined)?.error;
  if (e && typeof e['code'] === 'string') {
    const { code, message, ...details } = e;
    return new RaftkitClientError(code, `${what}: ${typeof message === 'string' ? message : code}`, { status, endpoint, details });
  }
  return new RaftkitClientError(status >= 500 ? 'SERVER_INTERNAL' : ClientErrorCode.BadResponse, `${what}: HTTP ${status} from ${endpoint} without a coded error body`, { status, endpoint });
}
