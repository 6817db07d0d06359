import { ErrorCode, RaftError } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { PairMap } from './pairMap.js';

/** Delivery delay bounds in whole milliseconds; each copy draws uniformly from [min, max]. */
export interface DelayRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Faults applied to messages on a link. Probabilities are in [0, 1]. Every setting left out
 * falls back to the network's defaults, whose own defaults are "no fault".
 */
export interface LinkFaults {
  /** Probability that a copy is lost. */
  readonly drop?: number;
  /** Probability that a message is delivered twice (two independent copies). */
  readonly duplicate?: number;
  /** Probability that a copy is held back and delivered after the link's next message. */
  readonly reorder?: number;
  /** Delivery delay. Delays alone never reorder a link: delivery stays FIFO. */
  readonly delay?: DelayRange;
  /** How long a held-back copy waits for a later message before it is delivered anyway. */
  readonly reorderHoldMs?: number;
}

export type ResolvedFaults = Required<LinkFaults>;

export const noFaults: ResolvedFaults = Object.freeze({
  drop: 0,
  duplicate: 0,
  reorder: 0,
  delay: Object.freeze({ min: 0, max: 0 }),
  reorderHoldMs: 10,
});

function checkProbability(name: string, p: number | undefined): string | null {
  if (p === undefined || (typeof p === 'number' && p >= 0 && p <= 1)) return null;
  return `${name} must be a probability in [0, 1], got ${p}`;
}

function checkMillis(name: string, ms: number): string | null {
  return Number.isSafeInteger(ms) && ms >= 0 ? null : `${name} must be whole milliseconds >= 0, got ${ms}`;
}

function checkDelay(delay: DelayRange | undefined): string | null {
  if (delay === undefined) return null;
  if (typeof delay !== 'object' || delay === null) return 'delay must be { min, max }';
  const problem = checkMillis('delay.min', delay.min) ?? checkMillis('delay.max', delay.max);
  return problem ?? (delay.min > delay.max ? `delay.min ${delay.min} > delay.max ${delay.max}` : null);
}

/** The first problem with `faults`, or null if every given setting is in range. */
function problemWith(faults: LinkFaults): string | null {
  if (typeof faults !== 'object' || faults === null) return 'expected an object';
  return (
    checkProbability('drop', faults.drop) ??
    checkProbability('duplicate', faults.duplicate) ??
    checkProbability('reorder', faults.reorder) ??
    (faults.reorderHoldMs === undefined ? null : checkMillis('reorderHoldMs', faults.reorderHoldMs)) ??
    checkDelay(faults.delay)
  );
}

/** Throws `code` (RAFT_INVALID_ARGUMENT by default) unless every given setting is in range. */
export function validateFaults(faults: LinkFaults, code: ErrorCode = ErrorCode.InvalidArgument): void {
  const problem = problemWith(faults);
  if (problem) throw new RaftError(code, `invalid faults: ${problem}`);
}

function defined(faults: LinkFaults): LinkFaults {
  return Object.fromEntries(Object.entries(faults).filter(([, v]) => v !== undefined));
}

/** Network-wide default faults plus per-link overrides. */
export class FaultTable {
  private defaults: ResolvedFaults = noFaults;
  private readonly links = new PairMap<LinkFaults>();

  constructor(initial?: LinkFaults) {
    if (initial === undefined) return;
    validateFaults(initial, ErrorCode.InvalidConfig);
    this.setDefaults(initial);
  }

  /** Merges `faults` into the defaults; settings not given keep their value. */
  setDefaults(faults: LinkFaults): void {
    validateFaults(faults);
    this.defaults = Object.freeze({ ...this.defaults, ...defined(faults) });
  }

  /** Replaces the override for one direction of a link; null removes it. */
  setLink(from: NodeId, to: NodeId, faults: LinkFaults | null): void {
    if (faults === null) return this.links.delete(from, to);
    validateFaults(faults);
    this.links.set(from, to, Object.freeze(defined(faults)));
  }

  /** Resets the defaults to "no fault" and removes every override. */
  clear(): void {
    this.defaults = noFaults;
    this.links.clear();
  }

  /** The faults in force from `from` to `to`: the link's override over the defaults. */
  resolve(from: NodeId, to: NodeId): ResolvedFaults {
    const override = this.links.get(from, to);
    return override ? { ...this.defaults, ...override } : this.defaults;
  }
}
