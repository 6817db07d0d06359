import { isSubset } from './bitset.js';
import type { Model } from './types.js';

interface Visit<S> {
  readonly state: S;
  readonly optional: Uint32Array;
}

/**
 * The configurations already explored, so the search can prune one it reaches again (Lowe
 * 2017, on top of Wing & Gong 1993; Porcupine does the same).
 *
 * A configuration is the set of operations that must be or were given up (`settled`), the
 * set of never-returning optional operations applied (`optional`), and the model state. One
 * that applied a superset of the optional operations of an explored one, with the same
 * settled set and state, is pruned too: it can only do less, as the unapplied optional
 * operations can always stay unapplied. Without this, every subset of the timed-out
 * operations would be searched when proving a history illegal.
 *
 * Without a model `equal`, the state's `hash` is taken as canonical.
 */
export class StateCache<S> {
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
    const visits = this.visits.get(key);
    if (!visits) {
      this.visits.set(key, [{ state, optional }]);
      return true;
    }
    const equal = this.equal;
    const covered = (v: Visit<S>) => isSubset(v.optional, optional) && (!equal || equal(v.state, state));
    if (visits.some(covered)) return false;
    visits.push({ state, optional });
    return true;
  }
}
