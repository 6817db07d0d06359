import { ErrorCode, RaftError } from '../errors.js';
import type { Clock } from './clock.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/**
 * Makes `resolve`/`reject` also drop the abort listener, and calls `onAbort` (which forgets
 * the waiter and rejects with the signal's reason) if `signal` fires first.
 */
function abortable<T>(
  signal: AbortSignal | undefined,
  resolve: (value: T) => void,
  reject: (err: unknown) => void,
  onAbort: (reason: unknown) => void,
): { resolve(value: T): void; reject(err: unknown): void } {
  if (!signal) return { resolve, reject };
  const listener = (): void => onAbort(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  const off = (): void => signal.removeEventListener('abort', listener);
  return {
    resolve: (v) => (off(), resolve(v)),
    reject: (e) => (off(), reject(e)),
  };
}

/**
 * One timer for many deadlines, armed for the earliest: setting and clearing a timer per
 * proposal or read was about 1% of a busy leader (issue 11). When it fires, `onDue(now)`
 * fails everything due and returns the next deadline (Infinity: none); `idle()` clears it
 * once nothing waits. Every deadline is still met exactly.
 */
class SharedDeadline {
  /** Invariant: armed (at `due`) while anything waits, at or before every deadline. */
  private timer: unknown = null;
  private due = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (now: number) => number,
  ) {}

  /** Something waits until `due`. */
  note(due: number): void {
    if (due < this.due) this.arm(due);
  }

  /** Nothing waits any more. */
  idle(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.due = Infinity;
  }

  private arm(due: number): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.due = due;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, due - this.clock.now()));
  }

  private fire(): void {
    this.timer = null;
    this.due = Infinity;
    const next = this.onDue(this.clock.now());
    if (next < Infinity) this.arm(next);
  }
}

/**
 * Promises waiting on log positions: proposals keyed by index (settled when that index is
 * applied, resolved only if the applied entry is the one proposed), and reads waiting for
 * the applied index to reach their read index.
 * Their deadlines share one timer (SharedDeadline).
 */
export class PendingProposals<R> {
  private readonly byIndex = new Map<number, Waiter<R> & { term: number; due: number; timeoutMs: number }>();
  private readonly deadline: SharedDeadline;

  constructor(private readonly clock: Clock) {
    this.deadline = new SharedDeadline(clock, (now) => this.expire(now));
  }

  get size(): number {
    return this.byIndex.size;
  }

  add(index: number, term: number, timeoutMs: number, signal?: AbortSignal): Promise<R> {
    // An older proposal still waiting at this index lost its entry: this node lost leadership,
    // its tail was truncated, and now leads again in a later term. By leader completeness the
    // old entry was not committed (it is not in this leader's log) and never will be.
    const old = this.byIndex.get(index);
    if (old) {
      this.forget(index);
      old.reject(new RaftError(ErrorCode.ProposalDropped, `proposal at index ${index} (term ${old.term}) was replaced by this node's entry of term ${term}`));
    }
    return new Promise<R>((resolve, reject) => {
      const onAbort = (err: unknown): void => {
        if (this.byIndex.get(index) !== waiter) return;
        this.forget(index);
        waiter.reject(err);
      };
      const due = this.clock.now() + timeoutMs;
      const waiter = { term, due, timeoutMs, ...abortable(signal, resolve, reject, onAbort) };
      this.byIndex.set(index, waiter);
      this.deadline.note(due);
    });
  }

  /** Entry `index` of `term` was applied with `result`. */
  applied(index: number, term: number, result: R): void {
    const w = this.byIndex.get(index);
    if (!w) return;
    this.forget(index);
    if (w.term === term) w.resolve(result);
    else w.reject(new RaftError(ErrorCode.ProposalDropped, `proposal at index ${index} was replaced by another leader's entry`));
  }

  /** Everything up to `index` was replaced by a snapshot: proposals there cannot be answered. */
  droppedThrough(index: number): void {
    for (const [i, w] of this.byIndex) {
      if (i > index) continue;
      this.forget(i);
      w.reject(new RaftError(ErrorCode.OutcomeUnknown, `proposal at index ${i} was superseded by a snapshot; it may or may not have applied`));
    }
  }

  rejectAll(err: unknown): void {
    const all = [...this.byIndex.values()];
    this.byIndex.clear();
    this.deadline.idle();
    for (const w of all) w.reject(err);
  }

  /** Drops the waiter at `index`; the timer goes once nothing waits. */
  private forget(index: number): void {
    this.byIndex.delete(index);
    if (this.byIndex.size === 0) this.deadline.idle();
  }

  /** Fails every proposal due by `now`; returns the next deadline. */
  private expire(now: number): number {
    const late: [number, Waiter<R> & { timeoutMs: number }][] = [];
    let next = Infinity;
    for (const [i, w] of this.byIndex) {
      if (w.due <= now) late.push([i, w]);
      else if (w.due < next) next = w.due;
    }
    for (const [i] of late) this.byIndex.delete(i);
    for (const [i, w] of late) {
      w.reject(new RaftError(ErrorCode.Timeout, `proposal at index ${i} not applied within ${w.timeoutMs} ms; it may still apply`));
    }
    return next;
  }
}

interface ReadWaiter extends Waiter<number> {
  readonly requestId: string;
  readonly due: number;
  readonly timeoutMs: number;
  /** The read index, once confirmed (0 before). */
  index: number;
}

/** Reads waiting for confirmation (ReadIndex) and then for the applied index to catch up. */
export class PendingReads {
  private readonly awaitingIndex = new Map<string, ReadWaiter>();
  private awaitingApply: ReadWaiter[] = [];
  private readonly deadline: SharedDeadline;

  constructor(private readonly clock: Clock) {
    this.deadline = new SharedDeadline(clock, (now) => this.expire(now));
  }

  add(requestId: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const onAbort = (err: unknown): void => {
        if (this.awaitingIndex.get(requestId) === waiter) this.awaitingIndex.delete(requestId);
        else this.awaitingApply = this.awaitingApply.filter((w) => w !== waiter);
        this.idleIfEmpty();
        waiter.reject(err);
      };
      const waiter: ReadWaiter = { requestId, due: this.clock.now() + timeoutMs, timeoutMs, index: 0, ...abortable(signal, resolve, reject, onAbort) };
      this.awaitingIndex.set(requestId, waiter);
      this.deadline.note(waiter.due);
    });
  }

  /** The read index of `requestId` is known (0: it failed). */
  confirmed(requestId: string, index: number, applied: number, failure: () => unknown): void {
    const w = this.awaitingIndex.get(requestId);
    if (!w) return;
    this.awaitingIndex.delete(requestId);
    if (index === 0) {
      this.idleIfEmpty();
      w.reject(failure());
    } else {
      w.index = index;
      this.awaitingApply.push(w);
      this.appliedTo(applied);
    }
  }

  appliedTo(applied: number): void {
    if (this.awaitingApply.length === 0) return;
    const ready: ReadWaiter[] = [];
    const waiting: ReadWaiter[] = [];
    for (const w of this.awaitingApply) (w.index <= applied ? ready : waiting).push(w);
    if (ready.length === 0) return;
    this.awaitingApply = waiting;
    this.idleIfEmpty();
    for (const w of ready) w.resolve(w.index);
  }

  /** Fails every read still waiting for its read index (those waiting to apply keep waiting). */
  rejectUnconfirmed(err: () => unknown): void {
    const unconfirmed = [...this.awaitingIndex.values()];
    this.awaitingIndex.clear();
    this.idleIfEmpty();
    for (const w of unconfirmed) w.reject(err());
  }

  rejectAll(err: unknown): void {
    const all = [...this.awaitingIndex.values(), ...this.awaitingApply];
    this.awaitingIndex.clear();
    this.awaitingApply = [];
    this.deadline.idle();
    for (const w of all) w.reject(err);
  }

  private idleIfEmpty(): void {
    if (this.awaitingIndex.size === 0 && this.awaitingApply.length === 0) this.deadline.idle();
  }

  /** Fails every read due by `now`; returns the next deadline. */
  private expire(now: number): number {
    const late: ReadWaiter[] = [];
    let next = Infinity;
    const sort = (w: ReadWaiter): boolean => {
      if (w.due <= now) return late.push(w) > 0;
      if (w.due < next) next = w.due;
      return false;
    };
    for (const [id, w] of this.awaitingIndex) if (sort(w)) this.awaitingIndex.delete(id);
    this.awaitingApply = this.awaitingApply.filter((w) => !sort(w));
    for (const w of late) w.reject(new RaftError(ErrorCode.Timeout, `read ${w.requestId} not confirmed within ${w.timeoutMs} ms`));
    return next;
  }
}
