import http from 'node:http';
import https from 'node:https';
import type { OutgoingHttpHeaders } from 'node:http';
import { oneLine } from '../peerFailureLog.js';

export interface PostOptions {
  readonly url: URL;
  readonly agent: http.Agent;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Uint8Array;
  readonly timeoutMs: number;
  /**
   * Send `Expect: 100-continue` and the body only once the peer agrees: a large body the peer
   * refuses (too large, busy, clock off) is then never sent, and its coded answer always arrives.
   */
  readonly expectContinue?: boolean;
}

/** A peer that ignores `Expect` gets the body anyway after this long (curl waits 1 s too). */
export const CONTINUE_WAIT_MS = 1000;

export type PostOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly kind: 'network' | 'timeout' | 'status';
      readonly detail: string;
      /** The socket error's code for a network failure (ECONNREFUSED, ENOTFOUND...). */
      readonly errno?: string;
      readonly status?: number;
      /** The coded error the peer answered with, if any. */
      readonly code?: string;
    };

/** Error bodies are small JSON; anything beyond this is not worth reading. */
const MAX_ERROR_BODY = 4096;

export function describeStatus(status: number, body: string): PostOutcome {
  let code: string | undefined;
  let message = oneLine(body);
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // Not our JSON (a proxy's page, another app's 404): keep its text, on one line.
  }
  return { ok: false, kind: 'status', status, code, detail: `HTTP ${status}${code ? ` ${code}` : ''}: ${message}` };
}

/** Reads the response to the end (so the keep-alive socket is reusable) and judges it. */
function readResponse(res: http.IncomingMessage, finish: (outcome: PostOutcome) => void): void {
  const status = res.statusCode ?? 0;
  const ok = status >= 200 && status < 300;
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    if (ok || size >= MAX_ERROR_BODY) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  res.on('end', () => finish(ok ? { ok: true } : describeStatus(status, Buffer.concat(chunks).toString('utf8'))));
  res.on('error', (err) => finish({ ok: false, kind: 'network', detail: err.message }));
}

/**
 * POSTs one body and calls `done` exactly once, unless cancelled first. A request that fails
 * on a reused keep-alive socket the server had just closed is retried once on a fresh one:
 * that race is not the peer being unreachable.
 */
export function startPost(options: PostOptions, done: (outcome: PostOutcome) => void): () => void {
  let settled = false;
  let current: http.ClientRequest | undefined;
  let continueTimer: NodeJS.Timeout | undefined;
  const finish = (outcome: PostOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(continueTimer);
    if (!outcome.ok) current?.destroy();
    done(outcome);
  };
  const timer = setTimeout(() => finish({ ok: false, kind: 'timeout', detail: `no answer within ${options.timeoutMs} ms` }), options.timeoutMs);
  timer.unref();
  const attempt = (mayRetry: boolean): void => {
    const send = options.url.protocol === 'https:' ? https.request : http.request;
    const headers = options.expectContinue ? { ...options.headers, expect: '100-continue' } : options.headers;
    const req = send(options.url, { method: 'POST', agent: options.agent, headers });
    current = req;
    req.on('response', (res) => {
      clearTimeout(continueTimer);
      readResponse(res, finish);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      clearTimeout(continueTimer);
      const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      if (mayRetry && stale) return attempt(false);
      finish({ ok: false, kind: 'network', detail: `${err.code ?? 'error'}: ${err.message}`, ...(err.code ? { errno: err.code } : {}) });
    });
    if (!options.expectContinue) return void req.end(options.body);
    let bodySent = false;
    const sendBody = (): void => {
      clearTimeout(continueTimer);
      if (bodySent || settled) return;
      bodySent = true;
      req.end(options.body);
    };
    req.once('continue', sendBody);
    continueTimer = setTimeout(sendBody, CONTINUE_WAIT_MS);
    continueTimer.unref();
    req.flushHeaders();
  };
  attempt(true);
  return () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(continueTimer);
    current?.destroy();
  };
}
