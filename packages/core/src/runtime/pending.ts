import { ErrorCode, RaftError } from '../errors.js';
import type { Clock } from './clock.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
  timer: unknown;
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
 * Promises waiting on log positions: proposals keyed by index (settled when that index is
 * applied, resolved only if the applied entry is the one proposed), and reads waiting for
 * the applied index to reach their read index.
 */
export class PendingProposals<R> {
  private readonly byIndex = new Map<number, Waiter<R> & { term: number }>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.byIndex.size;
  }

  add(index: number, term: number, timeoutMs: number, signal?: AbortSignal): Promise<R> {
    // An older proposal still waiting at this index lost its entry: this node lost leadership,
    // its tail was truncated, and now leads again in a later term. By leader completeness the
    // old entry was not committed (it is not in this leader's log) and never will be.
    const old = this.byIndex.get(index);
    if (old) {
      this.byIndex.delete(index);
      this.clock.clearTimeout(old.timer);
      old.reject(new RaftError(ErrorCode.ProposalDropped, `proposal at index ${index} (term ${old.term}) was replaced by this node's entry of term ${term}`));
    }
    return new Promise<R>((resolve, reject) => {
      const forget = (err: unknown): void => {
        if (this.byIndex.get(index) === waiter) this.byIndex.delete(index);
        this.clock.clearTimeout(waiter.timer);
        waiter.reject(err);
      };
      const waiter = { term, ...abortable(signal, resolve, reject, forget), timer: null as unknown };
      waiter.timer = this.clock.setTimeout(
        () => forget(new RaftError(ErrorCode.Timeout, `proposal at index ${index} not applied within ${timeoutMs} ms; it may still apply`)),
        timeoutMs,
      );
      this.byIndex.set(index, waiter);
    });
  }

  /** Entry `index` of `term` was applied with `result`. */
  applied(index: number, term: number, result: R): void {
    const w = this.byIndex.get(index);
    if (!w) return;
    this.byIndex.delete(index);
    this.clock.clearTimeout(w.timer);
    if (w.term === term) w.resolve(result);
    else w.reject(new RaftError(ErrorCode.ProposalDropped, `proposal at index ${index} was replaced by another leader's entry`));
  }

  /** Everything up to `index` was replaced by a snapshot: proposals there cannot be answered. */
  droppedThrough(index: number): void {
    for (const [i, w] of this.byIndex) {
      if (i > index) continue;
      this.byIndex.delete(i);
      this.clock.clearTimeout(w.timer);
      w.reject(new RaftError(ErrorCode.OutcomeUnknown, `proposal at index ${i} was superseded by a snapshot; it may or may not have applied`));
    }
  }

  rejectAll(err: unknown): void {
    for (const w of this.byIndex.values()) {
      this.clock.clearTimeout(w.timer);
      w.reject(err);
    }
    this.byIndex.clear();
  }
}

/** Reads waiting for confirmation (ReadIndex) and then for the applied index to catch up. */
export class PendingReads {
  private readonly awaitingIndex = new Map<string, Waiter<number>>();
  private awaitingApply: (Waiter<number> & { index: number })[] = [];

  constructor(private readonly clock: Clock) {}

  add(requestId: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const forget = (err: unknown): void => {
        this.clock.clearTimeout(timer);
        this.awaitingIndex.delete(requestId);
        this.awaitingApply = this.awaitingApply.filter((w) => w.timer !== timer);
        settle.reject(err);
      };
      const settle = abortable(signal, resolve, reject, forget);
      const timer = this.clock.setTimeout(() => forget(new RaftError(ErrorCode.Timeout, `read ${requestId} not confirmed within ${timeoutMs} ms`)), timeoutMs);
      this.awaitingIndex.set(requestId, { ...settle, timer });
    });
  }

  /** The read index of `requestId` is known (0: it failed). */
  confirmed(requestId: string, index: number, applied: number, failure: () => unknown): void {
    const w = this.awaitingIndex.get(requestId);
    if (!w) return;
    this.awaitingIndex.delete(requestId);
    if (index === 0) {
      this.clock.clearTimeout(w.timer);
      w.reject(failure());
    } else {
      this.awaitingApply.push({ ...w, index });
      this.appliedTo(applied);
    }
  }

  appliedTo(applied: number): void {
    if (this.awaitingApply.length === 0) return;
    const ready: (Waiter<number> & { index: number })[] = [];
    const waiting: (Waiter<number> & { index: number })[] = [];
    for (const w of this.awaitingApply) (w.index <= applied ? ready : waiting).push(w);
    if (ready.length === 0) return;
    this.awaitingApply = waiting;
    for (const w of ready) {
      this.clock.clearTimeout(w.timer);
      w.resolve(w.index);
    }
  }

  /** Fails every read still waiting for its read index (those waiting to apply keep waiting). */
  rejectUnconfirmed(err: () => unknown): void {
    for (const w of this.awaitingIndex.values()) {
      this.clock.clearTimeout(w.timer);
      w.reject(err());
    }
    this.awaitingIndex.clear();
  }

  rejectAll(err: unknown): void {
    for (const w of [...this.awaitingIndex.values(), ...this.awaitingApply]) {
      this.clock.clearTimeout(w.timer);
      w.reject(err);
    }
    this.awaitingIndex.clear();
    this.awaitingApply = [];
  }
}
