import { ClientErrorCode, RaftkitClientError } from './errors.js';

export interface RetryOptions {
  /** First retry waits up to this long (full jitter). Default 50 ms. */
  readonly baseMs?: number;
  /** No wait exceeds this. Default 1000 ms. */
  readonly maxMs?: number;
}

/**
 * Exponential backoff with full jitter (a uniform wait in [0, min(max, base * 2^attempt)]), so
 * clients that failed together do not come back together.
 */
export function backoffMs(attempt: number, retry: Required<RetryOptions>, random: () => number = Math.random): number {
  const cap = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

export function abortedError(signal: AbortSignal, what: string): RaftkitClientError {
  return new RaftkitClientError(ClientErrorCode.Aborted, `${what} was aborted`, { cause: signal.reason });
}

/** Waits `ms`, or rejects with CLIENT_ABORTED as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError(signal, what));
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal!, what));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An AbortController that aborts when any of `signals` does or after `timeoutMs` (its reason is
 * then the string 'timeout'). `dispose()` clears the timer and the listeners.
 */
export function linkedController(signals: readonly (AbortSignal | undefined)[], timeoutMs: number): { signal: AbortSignal; timedOut(): boolean; clearTimer(): void; dispose(): void; abort(): void } {
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = (e: Event): void => ctl.abort((e.target as AbortSignal).reason);
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  for (const s of live) {
    if (s.aborted) ctl.abort(s.reason);
    else s.addEventListener('abort', onAbort, { once: true });
  }
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => {
        timedOut = true;
        ctl.abort('timeout');
      }, Math.max(0, timeoutMs))
    : undefined;
  return {
    signal: ctl.signal,
    timedOut: () => timedOut,
    clearTimer: () => clearTimeout(timer),
    /** Aborts it (and disposes it): e.g. the other probes once one answered. */
    abort() {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', onAbort);
      ctl.abort('done');
    },
    dispose() {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', onAbort);
    },
  };
}
