import type { RawNode } from '../consensus/rawNode.js';
import type { Entry, NodeId } from '../consensus/types.js';
import { isRaftError } from '../errors.js';
import { str } from './durableStore.js';

/** What identifies an entry's content (its term, type and data). */
export const keyOf = (e: Entry): string => `${e.term}:${e.type}:${str(e.data)}`;

/**
 * The simulation's global record of what every node revealed, and Raft's safety properties
 * checked against it (election safety, log matching, leader completeness, committed entries
 * never change, state machine safety). `fail` names the property broken.
 */
export class SafetyLedger {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly entryAt = new Map<string, { key: string; prevTerm: number }>();
  readonly committedAt = new Map<number, { key: string; term: number }>();
  /** The state machine hash after applying each index, as the first node to apply it saw it. */
  readonly hashAt = new Map<number, number>();

  constructor(private readonly fail: (property: string, detail: string) => never) {}

  /** The term before each entry, as the node's log says when it hands them out. */
  prevTerms(raw: RawNode, entries: readonly Entry[]): number[] {
    return entries.map((e) => (e.index - 1 === 0 ? 0 : safeTerm(raw, e.index - 1)));
  }

  /** Log matching (§5.3): an (index, term) pair names one entry with one predecessor. */
  appended(id: NodeId, entries: readonly Entry[], prevTerms: readonly number[]): void {
    for (const [i, e] of entries.entries()) {
      const prevTerm = prevTerms[i]!;
      const k = `${e.index}/${e.term}`;
      const seen = this.entryAt.get(k);
      const mine = { key: keyOf(e), prevTerm };
      if (!seen) this.entryAt.set(k, mine);
      else if (seen.key !== mine.key || (prevTerm >= 0 && seen.prevTerm >= 0 && seen.prevTerm !== prevTerm)) {
        this.fail('log matching', `${id} has ${k} = ${JSON.stringify(mine)}, elsewhere ${JSON.stringify(seen)}`);
      }
    }
  }

  /** Election safety (§5.2) across every configuration, and leader completeness (§5.4). */
  newLeader(id: NodeId, raw: RawNode, term: number): void {
    const other = this.leaderOfTerm.get(term);
    if (other && other !== id) this.fail('election safety', `${other} and ${id} both lead term ${term}`);
    this.leaderOfTerm.set(term, id);
    const snapIdx = raw.status().snapshotIndex;
    for (const [index, c] of this.committedAt) {
      if (c.term >= term || index <= snapIdx) continue;
      const e = raw.entries(index, index + 1)[0];
      if (!e || keyOf(e) !== c.key) this.fail('leader completeness', `leader ${id} of term ${term} lacks committed entry ${index}`);
    }
  }

  /** A node's commit index reached `commit` in `term`: those entries may never change. */
  committed(id: NodeId, raw: RawNode, commit: number, term: number): void {
    const from = Math.max(raw.status().snapshotIndex + 1, 1);
    for (let i = commit; i >= from; i--) {
      const known = this.committedAt.get(i);
      const e = raw.entries(i, i + 1)[0]!;
      if (known) {
        if (known.key !== keyOf(e)) this.fail('committed entries never change', `${id} index ${i}`);
        break;
      }
      this.committedAt.set(i, { key: keyOf(e), term });
    }
  }

  /** State machine safety: every node's state after applying `index` is the same. */
  applied(id: NodeId, index: number, hash: number): void {
    const h = this.hashAt.get(index);
    if (h === undefined) this.hashAt.set(index, hash);
    else if (h !== hash) this.fail('state machine safety', `${id} state differs at index ${index}`);
  }
}

function safeTerm(raw: RawNode, index: number): number {
  try {
    return raw.term(index);
  } catch (err) {
    if (isRaftError(err, 'RAFT_COMPACTED')) return -1; // unknown: compacted away
    throw err;
  }
}
