import type { KvChange } from './changes.js';
import { watchOverflowError } from './watchErrors.js';
import { fromStoredValue, type KvValue } from './values.js';

/** What a watch follows: one key, or every key starting with a prefix ('' for all keys). */
export type WatchFilter = { readonly key: string; readonly prefix?: undefined } | { readonly prefix: string; readonly key?: undefined };

export interface WatchOptions {
  /**
   * First revision to deliver: history events at or after it are replayed, then live ones
   * follow. Default: the next revision (live changes only). Older than the hub's
   * `oldestRevision`: `watch()` throws KV_COMPACTED.
   */
  readonly fromRevision?: number;
  /** Report each change's previous value (`prevValue`, omitted when the key was absent). Default false. */
  readonly prevValue?: boolean;
  /** Aborting ends the watch: queued events are dropped and the pending or next `next()` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Events queued for a slow consumer before the watch ends with KV_WATCH_OVERFLOW. Default: the hub's (10000). */
  readonly maxQueued?: number;
}

/** One changed key at one revision. */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The revision (log index) the change applied at; several changes may share it. */
  readonly revision: number;
  /** The new value (a fresh copy per event); only for a put. */
  readonly value?: KvValue;
  /** Revision that created the key; 0 for a delete. */
  readonly createRevision: number;
  /** The key's modRevision after the change: `revision` (a delete too). */
  readonly modRevision: number;
  /** Writes since the key was created; 0 for a delete. */
  readonly version: number;
  /** The key's lease after the change; 0 for none and for a delete. */
  readonly lease: number;
  /** Only with `prevValue: true`, and only if the key existed before the change. */
  readonly prevValue?: KvValue;
}

/**
 * A running watch: an async iterator of events in revision order, each matching change
 * exactly once. It ends (after delivering every event it queued) by `return()`, by its
 * signal, or with an error: KV_WATCH_OVERFLOW, or KV_COMPACTED when the replica restores a
 * snapshot past the watch's position. The error is delivered once, then the iterator is done.
 */
export interface WatchStream extends AsyncIterableIterator<WatchEvent> {
  /** Ends the watch at once; queued events are dropped and its queue freed. */
  return(): Promise<IteratorResult<WatchEvent>>;
}

/** What a watch needs of its hub. */
export interface WatchFeed {
  /** Queues the watch's next history events (at least one if any are left), or makes it live. */
  catchUp(watch: KvWatch): void;
  /** Forgets the watch (it ended). */
  detach(watch: KvWatch): void;
}

interface Queued {
  readonly revision: number;
  readonly change: KvChange;
}

interface Waiter {
  resolve(result: IteratorResult<WatchEvent>): void;
  reject(err: unknown): void;
}

const DONE: IteratorResult<WatchEvent> = Object.freeze({ done: true, value: undefined });

/** One watch's queue and position. Created and fed by a WatchHub. */
export class KvWatch implements WatchStream {
  /**
   * Invariant: every matching change at a revision < position is queued or was delivered;
   * none at a revision >= position is. Only grows.
   */
  position: number;
  /** Fed by the hub's applies (true), or still reading the history (false). Set by the hub. */
  live = false;
  /** Invariant: queue[head..] ascending by revision, whole revisions only. */
  private queue: Queued[] = [];
  private head = 0;
  /** Invariant: non-empty only while the queue is empty. */
  private waiters: Waiter[] = [];
  /** 'open': fed; 'ending': no longer fed, draining then `ending`'s error; 'done'. */
  private state: 'open' | 'ending' | 'done' = 'open';
  private ending: { readonly error: unknown } | undefined;
  private readonly onAbort = (): void => this.stop({ error: (this.signal as AbortSignal).reason });

  constructor(
    private readonly feed: WatchFeed,
    private readonly matches: (key: string) => boolean,
    fromRevision: number,
    private readonly prevValue: boolean,
    private readonly maxQueued: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.position = fromRevision;
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Whether the hub still feeds it. */
  get attached(): boolean {
    return this.state === 'open';
  }

  /** Events queued, not yet taken by the consumer. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * Called by the hub with every revision in order (live, or from the history). Queues the
   * matching changes, all of them or, if that would pass `maxQueued`, none: the watch then
   * ends with KV_WATCH_OVERFLOW once the consumer has taken what is queued. A revision larger
   * than `maxQueued` on its own is still queued when the queue is empty.
   */
  offer(revision: number, changes: readonly KvChange[]): void {
    if (this.state !== 'open' || revision < this.position) return;
    let n = 0;
    for (const c of changes) if (this.matches(c.key)) n++;
    if (n > 0 && this.queued > 0 && this.queued + n > this.maxQueued) {
      this.fail(watchOverflowError(revision - 1, this.maxQueued));
      return;
    }
    this.position = revision + 1;
    if (n === 0) return;
    for (const change of changes) if (this.matches(change.key)) this.queue.push({ revision, change });
    this.wake();
  }

  /** Stops feeding it; the consumer takes what is queued, then gets `error`. */
  fail(error: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.ending = { error };
    this.detach();
    this.wake();
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.state === 'open' && !this.live && this.queued === 0) this.feed.catchUp(this);
    if (this.queued > 0) {
      try {
        return Promise.resolve({ done: false, value: this.take() });
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (this.state !== 'open') return this.settle();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.stop(undefined);
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends it now, dropping the queue; the pending or next `next()` gets `ending`'s error, if any. */
  private stop(ending: { readonly error: unknown } | undefined): void {
    if (this.state === 'done') return;
    this.state = 'ending';
    this.ending = ending;
    this.queue = [];
    this.head = 0;
    this.detach();
    this.wake();
  }

  private detach(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.feed.detach(this);
  }

  /** Hands queued events to waiting consumers, and the end to the rest once drained. */
  private wake(): void {
    while (this.waiters.length > 0 && this.queued > 0) {
      const w = this.waiters.shift() as Waiter;
      try {
        w.resolve({ done: false, value: this.take() });
      } catch (err) {
        w.reject(err);
      }
    }
    if (this.state === 'open' || this.queued > 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) this.settle().then(w.resolve, w.reject);
  }

  /** The end, once drained: the error once, then done. */
  private settle(): Promise<IteratorResult<WatchEvent>> {
    const ending = this.ending;
    this.state = 'done';
    this.ending = undefined;
    return ending === undefined ? Promise.resolve(DONE) : Promise.reject(ending.error);
  }

  private take(): WatchEvent {
    const { revision, change } = this.queue[this.head] as Queued;
    this.queue[this.head] = undefined as never;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return toEvent(revision, change, this.prevValue);
  }
}

function toEvent(revision: number, c: KvChange, withPrev: boolean): WatchEvent {
  const r = c.type === 'put' ? c.record : undefined;
  if (c.type === 'put' && r === undefined) throw new Error(`watch: put of ${JSON.stringify(c.key)} at ${revision} has no record`);
  const event: { -readonly [K in keyof WatchEvent]: WatchEvent[K] } = {
    type: c.type,
    key: c.key,
    revision,
    createRevision: r?.createRevision ?? 0,
    modRevision: revision,
    version: r?.version ?? 0,
    lease: r?.lease ?? 0,
  };
  if (r !== undefined) event.value = fromStoredValue(r.value);
  if (withPrev && c.prev !== undefined) event.prevValue = fromStoredValue(c.prev.value);
  return event;
}
