import { isSubset } from './bitset.js';
import type { Model } from './types.js';

interface Visit<S> {
  readonly state: S;
  readonly optional: Uint32Array;
}

/**
 * How many earlier visits with the same settled set and state hash are compared for
 * dominance. Pruning less is always sound, so the cap only trades pruning for speed: without
 * it, a history with many timed-out operations spends its time scanning these lists.
 */
const COMPARED_VISITS = 64;

/**
 * The configurations already explored, so the search can prune one it reaches again (Lowe
 * 2017, on top of Wing & Gong 1993; Porcupine does the same).
 *
 * A configuration is the set of operations applied or given up (`settled`), the set of
 * never-returning optional operations applied (`optional`), and the model state. One that
 * applied a superset of the optional operations of an explored one, with the same settled set
 * and state, is pruned too: it can only do less, as an unapplied optional operation can
 * always stay unapplied.
 *
 * Without a model `equal`, the state's `hash` is taken as canonical and exact repeats are
 * found in O(1).
 */
export class StateCache<S> {
  private readonly exact = new Set<string>();
  private readonly visits = new Map<string, Visit<S>[]>();
  private readonly keyOf: (state: S) => string | number;
  private readonly equal: ((a: S, b: S) => boolean) | undefined;

  constructor(model: Model<S, unknown, unknown>) {
    const hash = model.hash;
    this.keyOf = hash ? (s) => hash(s) : (s) => JSON.stringify(s) ?? 'undefined';
    this.equal = model.equal;
  }

  /** Records a configuration; false if it, or one that dominates it, was recorded before. */
  add(settled: string, optional: Uint32Array, state: S): boolean {
    const key = `${settled}|${this.keyOf(state)}`;
    if (!this.equal) {
      const exactKey = optional.length === 0 ? key : `${key}|${optional.join(',')}`;
      if (this.exact.has(exactKey)) return false;
      this.exact.add(exactKey);
      if (optional.length === 0) return true;
    }
    return this.addVisit(key, { state, optional });
  }

  private addVisit(key: string, visit: Visit<S>): boolean {
    const visits = this.visits.get(key);
    if (!visits) {
      this.visits.set(key, [visit]);
      return true;
    }
    const equal = this.equal;
    for (let i = visits.length - 1; i >= Math.max(0, visits.length - COMPARED_VISITS); i--) {
      const v = visits[i];
      if (isSubset(v.optional, visit.optional) && (!equal || equal(v.state, visit.state))) return false;
    }
    visits.push(visit);
    return true;
  }
}
