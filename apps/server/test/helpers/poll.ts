/** Deadline-bound polling: tests wait for conditions, never for fixed amounts of time. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WaitOptions {
  /** Give up after this long. Default 15 s. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 25 ms. */
  readonly intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than undefined/null/false and returns that.
 * A throwing probe counts as "not yet"; its last error is in the timeout message.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last === undefined ? '' : `; last error: ${last instanceof Error ? last.message : String(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(opts.intervalMs ?? 25);
  }
}
