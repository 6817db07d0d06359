import { KvError, KvErrorCode } from './errors.js';

/* AbortSignal handling shared by KvClient's calls. */

/** `opts` with the signal added when there is one (the core's options are exact). */
export function signalled<T extends object>(opts: T, signal: AbortSignal | undefined): T & { signal?: AbortSignal } {
  return signal ? { ...opts, signal } : opts;
}

export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const like = typeof signal === 'object' && signal !== null && typeof (signal as AbortSignal).aborted === 'boolean' && typeof (signal as AbortSignal).addEventListener === 'function';
  if (!like) throw new KvError(KvErrorCode.InvalidArgument, 'signal must be an AbortSignal');
  return signal as AbortSignal;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/** `p`, or the signal's reason if it aborts first. */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
