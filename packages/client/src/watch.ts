import { backoffMs, sleep, type RetryOptions } from './backoff.js';
import { ClientErrorCode, RaftkitClientError, isRaftkitClientError } from './errors.js';
import type { HttpEngine } from './http.js';
import { refusal } from './http.js';
import { SseParser, type SseMessage } from './sse.js';
import type { WatchEvent } from './types.js';
import { decodeValue } from './values.js';

export interface WatchOptions {
  /** One key, or */
  readonly key?: string;
  /** every key with this prefix ('' for all keys). */
  readonly prefix?: string;
  /** First revision to deliver; default: the next one (only changes from now on). */
  readonly fromRevision?: number;
  /** Include each change's previous value (`prevValue`). */
  readonly prevValue?: boolean;
  /** Ends the watch (the iterator returns). */
  readonly signal?: AbortSignal;
  /** A stream silent this long (not even a `: ping`) is taken as dead and reopened. Default 45 s. */
  readonly idleTimeoutMs?: number;
}

function watchPath(o: WatchOptions, from: number): string {
  const q = new URLSearchParams();
  if ((o.key === undefined) === (o.prefix === undefined)) throw new RaftkitClientError(ClientErrorCode.InvalidArgument, 'watch needs exactly one of key or prefix');
  if (o.key !== undefined) q.set('key', o.key);
  else q.set('prefix', o.prefix!);
  q.set('fromRevision', String(from));
  if (o.prevValue) q.set('prevValue', 'true');
  return `/v1/watch?${q.toString()}`;
}

function parseEvent(msg: SseMessage, endpoint: string): WatchEvent {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(msg.data) as Record<string, unknown>;
  } catch (err) {
    throw new RaftkitClientError(ClientErrorCode.BadResponse, `watch: an event from ${endpoint} is not JSON`, { endpoint, cause: err });
  }
  const revision = Number(raw['revision'] ?? msg.id);
  if (!Number.isSafeInteger(revision) || typeof raw['key'] !== 'string') {
    throw new RaftkitClientError(ClientErrorCode.BadResponse, `watch: an event from ${endpoint} has no key or revision`, { endpoint });
  }
  const ev: Record<string, unknown> = { ...raw, type: msg.event === 'delete' ? 'delete' : 'put', revision };
  if ('value' in raw) ev['value'] = decodeValue(raw['value'], raw['encoding']);
  if ('prevValue' in raw) ev['prevValue'] = decodeValue(raw['prevValue'], raw['prevEncoding'] ?? raw['encoding']);
  delete ev['encoding'];
  delete ev['prevEncoding'];
  return ev as unknown as WatchEvent;
}

/**
 * The watch as an async iterator over the server's event stream. Every change is delivered
 * once, in revision order, across reconnects: a dropped stream is reopened (with backoff, at
 * the next endpoint) from the revision of the last event delivered, since the cut may have
 * fallen between two changes of that revision, and the changes of that revision already
 * delivered (a revision changes a key at most once) are skipped. `KV_COMPACTED` (the history
 * no longer reaches back that far) and other refusals end it with the error.
 */
export async function* watchEvents(engine: HttpEngine, retry: Required<RetryOptions>, random: () => number, o: WatchOptions, startRevision: () => Promise<number>): AsyncGenerator<WatchEvent, void, undefined> {
  const idleMs = o.idleTimeoutMs ?? 45_000;
  // Without a start, "from now on" is pinned to a revision first, so that a reconnect before
  // the first event resumes there instead of at a later "now" (which would skip changes).
  let from: number;
  try {
    from = o.fromRevision ?? (await startRevision()) + 1;
  } catch (err) {
    if (isRaftkitClientError(err, ClientErrorCode.Aborted) && o.signal?.aborted) return;
    throw err;
  }
  /** Revision of the last event delivered, and the keys delivered at it. */
  let lastRev = 0;
  let keysAtLast = new Set<string>();
  let attempt = 0;
  for (;;) {
    if (o.signal?.aborted) return;
    const resumeAt = lastRev > 0 ? lastRev : from;
    let answer;
    try {
      answer = await engine.request({
        method: 'GET', path: watchPath(o, resumeAt), stream: true, repeatable: true, signal: o.signal, what: 'watch',
        timeoutMs: Number.POSITIVE_INFINITY,
        headers: () => ({ accept: 'text/event-stream', ...(resumeAt > 1 ? { 'last-event-id': String(resumeAt - 1) } : {}) }),
      });
    } catch (err) {
      if (isRaftkitClientError(err, ClientErrorCode.Aborted) && o.signal?.aborted) return;
      throw err;
    }
    const res = answer.response!;
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => void reader.cancel(new Error('idle')).catch(() => undefined), idleMs);
    };
    try {
      arm();
      stream: for (;;) {
        const chunk = await reader.read().catch(() => null);
        // null: a dropped connection (or the caller's abort, checked below).
        if (chunk === null) break;
        if (chunk.done) break;
        arm();
        for (const msg of parser.push(decoder.decode(chunk.value, { stream: true }))) {
          if (msg.event === 'error') {
            let body: unknown;
            try {
              body = JSON.parse(msg.data);
            } catch {
              body = undefined;
            }
            // `{ error: { code, message } }` as every refusal, or the bare `{ code, message }`.
            const coded = (body as { error?: unknown } | undefined)?.error !== undefined ? body : { error: body };
            const err = refusal(coded, 0, answer.endpoint, 'watch');
            if (err.code === 'KV_WATCH_OVERFLOW') break stream; // resume where we are
            throw err;
          }
          if (msg.event !== 'put' && msg.event !== 'delete') continue;
          const ev = parseEvent(msg, answer.endpoint);
          if (ev.revision < lastRev || (ev.revision === lastRev && keysAtLast.has(ev.key))) continue;
          if (ev.revision > lastRev) {
            lastRev = ev.revision;
            keysAtLast = new Set();
          }
          if (o.signal?.aborted) return;
          keysAtLast.add(ev.key);
          attempt = 0;
          yield ev;
        }
      }
    } finally {
      clearTimeout(idle);
      await reader.cancel().catch(() => undefined);
      answer.release();
    }
    if (o.signal?.aborted) return;
    engine.endpoints.failed(answer.endpoint);
    await sleep(backoffMs(attempt++, retry, random), o.signal, 'watch').catch(() => undefined);
  }
}
