import type { ChangeSink, KvChange } from './changes.js';
import { invalidArgument } from './errors.js';
import { checkCount, checkKey, checkOptions, checkPrefix, typeOf } from './validate.js';
import { KvWatch, type WatchFeed, type WatchFilter, type WatchOptions, type WatchStream } from './watch.js';
import { compactedByRestore, compactedError } from './watchErrors.js';
import { RevisionHistory } from './watchHistory.js';

export interface WatchHubOptions {
  /** Revisions that changed something kept for replay. Default 10000; 0 keeps none (live watches only). */
  readonly historyRevisions?: number;
  /**
   * Estimated bytes the kept revisions may hold alive (keys, values, previous values and
   * their objects; see `historyBytes`). Default 64 MiB. Whichever bound is reached first
   * trims the oldest revisions.
   */
  readonly historyBytes?: number;
  /** Default `maxQueued` of a watch. Default 10000 events. */
  readonly maxQueued?: number;
}

const DEFAULT_HISTORY_REVISIONS = 10_000;
const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 10_000;

/**
 * The watch history of one replica and its watches. It is the state machine's ChangeSink:
 * every applied revision that changed something is appended to a bounded history and handed
 * to the live watches at once (a few array pushes each; nothing is allocated per revision when
 * nobody watches, beyond the history entry). A new watch reads the history from its
 * `fromRevision` lazily, as its consumer pulls, then becomes live; both happen synchronously
 * between applies, so no revision is missed or seen twice in the hand-over.
 */
export class WatchHub implements ChangeSink, WatchFeed {
  private readonly history = new RevisionHistory();
  /**
   * Invariant: the history holds every revision that changed something in (floor, current];
   * changes at or before `floor` are gone. floor <= current.
   */
  private floor = 0;
  private current = 0;
  /** Invariant: disjoint; every attached watch is in one, by its `live` flag; position > floor. */
  private readonly live = new Set<KvWatch>();
  private readonly replaying = new Set<KvWatch>();
  private readonly maxRevisions: number;
  private readonly maxBytes: number;
  private readonly maxQueued: number;

  constructor(options?: WatchHubOptions) {
    const o = checkOptions<WatchHubOptions>(options, 'watch hub options');
    this.maxRevisions = checkCountOrZero(o.historyRevisions, 'historyRevisions', DEFAULT_HISTORY_REVISIONS);
    this.maxBytes = checkCountOrZero(o.historyBytes, 'historyBytes', DEFAULT_HISTORY_BYTES);
    this.maxQueued = checkCount(o.maxQueued, 'maxQueued', DEFAULT_MAX_QUEUED);
  }

  /** The smallest `fromRevision` a watch may start at: the history holds every change from it on. */
  get oldestRevision(): number {
    return this.floor + 1;
  }

  /** The last revision the hub saw a change at (or a snapshot restored at); 0 before any. */
  get currentRevision(): number {
    return this.current;
  }

  /** Revisions held in the history. */
  get historySize(): number {
    return this.history.length;
  }

  /** Estimated bytes the history keeps alive (an upper estimate: records the key space still holds count too). */
  get historyBytes(): number {
    return this.history.bytes;
  }

  /** Watches still attached (ended, returned and aborted ones are not). */
  get watcherCount(): number {
    return this.live.size + this.replaying.size;
  }

  applied(revision: number, changes: readonly KvChange[]): void {
    if (!Number.isSafeInteger(revision) || revision <= this.current) {
      throw new Error(`watch hub: applied revision ${revision} is not after the current revision ${this.current}`);
    }
    this.current = revision;
    if (changes.length === 0) return;
    this.history.push(revision, changes);
    for (const w of this.live) w.offer(revision, changes);
    this.trim();
  }

  restored(revision: number): void {
    if (!Number.isSafeInteger(revision) || revision < 0) throw new Error(`watch hub: restored to revision ${revision}`);
    this.history.clear();
    this.floor = revision;
    this.current = revision;
    // A watch past the snapshot misses nothing (a lower snapshot's revisions are applied again
    // and skipped as already seen); one at or before it cannot know what changed up to it.
    for (const w of [...this.replaying, ...this.live]) {
      if (w.position <= revision) w.fail(compactedByRestore(revision, w.position - 1));
      else this.goLive(w);
    }
  }

  /**
   * Starts a watch. Synchronous, so a caller (an HTTP handler) can answer before streaming.
   * @throws KvError KV_INVALID_ARGUMENT for a bad filter or option; KV_COMPACTED (with
   *   `oldestRevision`) if `fromRevision` is older than the history; the signal's reason if
   *   it is already aborted.
   */
  watch(filter: WatchFilter, options?: WatchOptions): WatchStream {
    const matches = checkFilter(filter);
    const o = checkOptions<WatchOptions>(options, 'watch options');
    const from = o.fromRevision === undefined ? this.current + 1 : checkCount(o.fromRevision, 'fromRevision', undefined);
    if (o.prevValue !== undefined && typeof o.prevValue !== 'boolean') throw invalidArgument(`prevValue must be a boolean, got ${typeOf(o.prevValue)}`);
    const maxQueued = checkCount(o.maxQueued, 'maxQueued', this.maxQueued);
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArgument(`signal must be an AbortSignal, got ${typeOf(o.signal)}`);
    if (from <= this.floor) throw compactedError(from, this.oldestRevision);
    o.signal?.throwIfAborted();
    const w = new KvWatch(this, matches, from, o.prevValue === true, maxQueued, o.signal);
    if (from <= this.current) this.replaying.add(w);
    else this.goLive(w);
    return w;
  }

  /** @internal */
  catchUp(w: KvWatch): void {
    if (!this.replaying.has(w)) return;
    if (w.position <= this.floor) throw new Error(`watch hub: a watch at ${w.position} lost history up to ${this.floor}`);
    for (let i = this.history.firstAtOrAfter(w.position); i < this.history.length; i++) {
      const e = this.history.at(i);
      w.offer(e.revision, e.changes);
      if (!w.attached) return;
      if (w.queued > 0 && i + 1 < this.history.length) return;
    }
    this.goLive(w);
  }

  /** @internal */
  detach(w: KvWatch): void {
    this.live.delete(w);
    this.replaying.delete(w);
  }

  /** Every change in (floor, current] has been offered to `w`, which now takes applies directly. */
  private goLive(w: KvWatch): void {
    // Nothing changed in (its position, current]: the history would hold it.
    w.position = Math.max(w.position, this.current + 1);
    w.live = true;
    this.replaying.delete(w);
    this.live.add(w);
  }

  private trim(): void {
    while (this.history.length > 0 && (this.history.length > this.maxRevisions || this.history.bytes > this.maxBytes)) {
      const e = this.history.shift();
      this.floor = e.revision;
      // A watch still reading the history takes the revision into its queue before it goes.
      for (const w of this.replaying) if (w.position <= e.revision) w.offer(e.revision, e.changes);
    }
  }
}

function checkCountOrZero(v: unknown, what: string, fallback: number): number {
  return v === 0 ? 0 : checkCount(v, what, fallback);
}

function checkFilter(filter: unknown): (key: string) => boolean {
  if (typeof filter !== 'object' || filter === null) throw invalidArgument(`watch filter must be { key } or { prefix }, got ${typeOf(filter)}`);
  const f = filter as { key?: unknown; prefix?: unknown };
  if (f.key !== undefined && f.prefix !== undefined) throw invalidArgument('watch filter takes key or prefix, not both');
  if (f.key !== undefined) {
    const key = checkKey(f.key);
    return (k) => k === key;
  }
  if (f.prefix === undefined) throw invalidArgument('watch filter must name a key or a prefix');
  const prefix = checkPrefix(f.prefix);
  return (k) => k.startsWith(prefix);
}
