import type { Entry } from '@raftkit/core';
import type { DurableWriteObserver } from './simStorage.js';

/** A broken property: which one, and what was seen. */
export class Violation extends Error {
  constructor(
    readonly property: string,
    readonly detail: string,
  ) {
    super(`${property} violated: ${detail}`);
    this.name = 'Violation';
  }
}

/** Read access to a live node's log, for the checks. */
export interface LogView {
  snapshotIndex: number;
  entry(index: number): Entry | undefined;
}

const hashBytes = (b: Uint8Array): string => {
  let h = 2166136261;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 16777619) >>> 0;
  return `${b.length}:${h.toString(16)}`;
};
export const entryKey = (e: Entry): string => `${e.term}/${e.type}/${hashBytes(e.data)}`;

/**
 * Raft's safety properties, checked incrementally as the simulation runs (Raft §5.4, Fig. 3):
 * election safety, log matching, leader completeness, state machine safety, and that a
 * committed entry never changes.
 */
export class SafetyChecker implements DurableWriteObserver {
  /**
   * The first violation seen. Checks run inside the nodes' callbacks, where a throw would be
   * taken for the node's own failure, so they record here and the simulation loop rethrows.
   */
  violation: Violation | null = null;

  /** Runs a check, recording (not throwing) what it finds. */
  guard(check: () => void): void {
    try {
      check();
    } catch (err) {
      if (!(err instanceof Violation)) throw err;
      this.violation ??= err;
    }
  }

  throwIfViolated(): void {
    if (this.violation) throw this.violation;
  }

  private readonly leaderOfTerm = new Map<number, string>();
  /** "index/term" -> the entry's key and its predecessor's term, as first seen durable. */
  private readonly entryAt = new Map<string, { key: string; prevTerm: number | undefined }>();
  /** Committed entries: index -> key and the term in which the commit was observed. */
  private readonly committed = new Map<number, { key: string; term: number }>();
  private readonly appliedAt = new Map<number, string>();
  readonly counts = { leaders: 0, committed: 0, applied: 0 };

  /** Election safety (§5.2): at most one leader per term. */
  leaderElected(node: string, term: number, log: LogView): void {
    this.counts.leaders++;
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== node) throw new Violation('election safety', `${other} and ${node} both lead term ${term}`);
    this.leaderOfTerm.set(term, node);
    // Leader completeness (§5.4): every entry committed in an earlier term is in its log.
    for (const [index, c] of this.committed) {
      if (c.term >= term || index <= log.snapshotIndex) continue;
      const e = log.entry(index);
      if (!e || entryKey(e) !== c.key) throw new Violation('leader completeness', `leader ${node} of term ${term} lacks entry ${index} committed in term ${c.term}`);
    }
  }

  unsafeUnsyncedWrite(node: string, detail: string): void {
    this.violation ??= new Violation('durability', `${node} left a write unsynced that a crash may lose: ${detail}`);
  }

  entriesDurableGuarded(node: string, entries: readonly Entry[], termAt: (index: number) => number | undefined): void {
    this.guard(() => this.entriesDurable(node, entries, termAt));
  }

  /** Log matching (§5.3): an (index, term) names one entry, with one predecessor term. */
  entriesDurable(node: string, entries: readonly Entry[], termAt: (index: number) => number | undefined): void {
    for (const e of entries) {
      const prevTerm = e.index === 1 ? 0 : termAt(e.index - 1);
      const k = `${e.index}/${e.term}`;
      const mine = { key: entryKey(e), prevTerm };
      const seen = this.entryAt.get(k);
      if (!seen) {
        this.entryAt.set(k, mine);
        continue;
      }
      const prevDiffers = seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm;
      if (seen.key !== mine.key || prevDiffers) {
        throw new Violation('log matching', `${node} stored entry ${k} unlike another node's (${JSON.stringify(mine)} vs ${JSON.stringify(seen)})`);
      }
    }
  }

  /** A node's commit index moved to `commit` during `term`: committed entries never change. */
  committedUpTo(node: string, commit: number, term: number, log: LogView, from: number): void {
    for (let i = Math.max(from + 1, log.snapshotIndex + 1); i <= commit; i++) {
      const e = log.entry(i);
      if (!e) continue;
      const key = entryKey(e);
      const known = this.committed.get(i);
      if (!known) {
        this.committed.set(i, { key, term });
        this.counts.committed++;
      } else if (known.key !== key) {
        throw new Violation('committed entries never change', `${node} has a different entry at committed index ${i}`);
      }
    }
  }

  /** State machine safety (§5.4.3): no two nodes apply different commands at one index. */
  applied(node: string, index: number, data: Uint8Array): void {
    const key = hashBytes(data);
    const seen = this.appliedAt.get(index);
    if (seen === undefined) {
      this.appliedAt.set(index, key);
      this.counts.applied++;
    } else if (seen !== key) {
      throw new Violation('state machine safety', `${node} applied a different command at index ${index}`);
    }
  }
}
