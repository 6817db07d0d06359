import type { NodeId } from '../consensus/types.js';

/** What the stability check needs to know about a simulated cluster at the end of a step. */
export interface ClusterView {
  readonly ids: readonly NodeId[];
  readonly now: number;
  /** The node's role, or null while it is crashed. */
  role(id: NodeId): string | null;
  /** The node's current term (a crashed node's durable term). */
  term(id: NodeId): number;
  /** Whether messages from `from` reach `to` and none was lost recently (see `StabilityMonitor`). */
  linkHealthy(from: NodeId, to: NodeId): boolean;
}

/**
 * Stability (what pre-vote and check-quorum exist for, thesis §9.6 and §6.2): a healthy
 * leader is not deposed and terms do not inflate.
 *
 * A *healthy window* for leader L of term T holds while L is up and a majority Q including L
 * is up and fully connected, both ways, over links that lost no message for `warmup` steps.
 * Nodes outside Q may be anywhere: crashed, cut off entirely or one way, lagging, rejoining.
 * It opens only when no node (crashed ones by their durable term) has a term above T.
 * Once it has lasted `warmup` steps (two election timeouts, so that L and Q have been in
 * contact for a whole check-quorum round and every follower's election timer was reset), then
 * for as long as it lasts L must stay leader of T and no node's term may rise above T.
 *
 * Excluded, because they legitimately cost a leader its leadership: L crashed or cut off from
 * a majority (check-quorum must step it down), lossy links inside Q (heartbeats lost for an
 * election timeout are indistinguishable from a dead leader), a node that already had a higher
 * term when the window would open (a candidate whose vote requests were lost: Raft §5.1 makes
 * L adopt that term when they meet), and the first `warmup` steps after the majority became
 * healthy (a follower whose timer ran down during the fault may still campaign). Disk stalls
 * in the message-level engine last at most 3 steps, well under an election timeout.
 */
export class StabilityMonitor {
  private window: { leader: NodeId; term: number; since: number } | null = null;
  /** How many windows opened, and in how many steps of them stability was checked. */
  readonly stats = { windows: 0, checkedSteps: 0 };

  constructor(private readonly warmup: number) {}

  /** Call at the end of every step; returns what was violated, or null. */
  check(v: ClusterView): string | null {
    const w = this.window;
    if (w && !this.healthy(v, w.leader)) this.window = null;
    else if (w) {
      const deposed = v.role(w.leader) !== 'leader' || v.term(w.leader) !== w.term;
      const higher = v.ids.find((id) => v.term(id) > w.term);
      if (v.now - w.since < this.warmup) {
        if (deposed || higher) this.window = null; // still settling from the fault before
      } else {
        this.stats.checkedSteps++;
        const since = `healthy since t=${w.since}`;
        if (higher) return `${higher} raised its term to ${v.term(higher)}, above leader ${w.leader}'s term ${w.term} (${since})`;
        if (deposed) return `leader ${w.leader} of term ${w.term} lost leadership with a connected majority (${since})`;
      }
    }
    if (!this.window) this.open(v);
    return null;
  }

  private open(v: ClusterView): void {
    const leaders = v.ids.filter((id) => v.role(id) === 'leader').sort((a, b) => v.term(b) - v.term(a));
    const leader = leaders[0];
    if (leader === undefined) return;
    const term = v.term(leader);
    if (v.ids.some((id) => v.term(id) > term) || !this.healthy(v, leader)) return;
    this.window = { leader, term, since: v.now };
    this.stats.windows++;
  }

  /** L is up with a majority fully connected to it and each other (found greedily). */
  private healthy(v: ClusterView, leader: NodeId): boolean {
    if (v.role(leader) === null) return false;
    const q = [leader];
    for (const id of v.ids) {
      if (id === leader || v.role(id) === null) continue;
      if (q.every((x) => v.linkHealthy(x, id) && v.linkHealthy(id, x))) q.push(id);
    }
    return q.length > v.ids.length / 2;
  }
}
