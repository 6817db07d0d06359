import { ErrorCode, RaftError } from '../errors.js';
import type { Clock } from './clock.js';

/**
 * Conditions long operations wait for (a learner catching up, a transfer finishing), each a
 * predicate re-checked whenever the node's state may have changed (after every Ready and
 * every tick). A predicate that throws fails its waiter with that error.
 */
export class Conditions {
  private readonly waiters = new Map<() => void, (err: unknown) => void>();

  constructor(private readonly clock: Clock) {}

  /** Resolves once `check()` is true; rejects on timeout (RAFT_TIMEOUT), abort or `failAll`. */
  until(check: () => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err: unknown): void => {
        this.waiters.delete(run);
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err === null) resolve();
        else reject(err);
      };
      const run = (): void => {
        try {
          if (check()) done(null);
        } catch (err) {
          done(err);
        }
      };
      const onAbort = (): void => done(signal?.reason ?? new RaftError(ErrorCode.Stopped, `${what}: aborted`));
      const timer = this.clock.setTimeout(
        () => done(new RaftError(ErrorCode.Timeout, `${what} did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(run, done);
      run();
    });
  }

  /** Re-checks every waiting condition. */
  check(): void {
    for (const run of [...this.waiters.keys()]) run();
  }

  failAll(err: RaftError): void {
    for (const fail of [...this.waiters.values()]) fail(err);
  }
}
