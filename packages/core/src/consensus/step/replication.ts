import type { Progress } from '../progress.js';
import type { Raft } from '../raft.js';
import type { NodeId } from '../types.js';
import { afterCommit } from './membership.js';
import { releaseWaitingReads } from './reads.js';

/**
 * Sends the follower the entries it is missing, if its progress allows (probe: one message
 * until answered; replicate: up to maxInflight; snapshot: nothing). `sendIfEmpty` also sends
 * an empty AppendEntries, to carry a new commit index.
 */
export function sendAppend(r: Raft, to: NodeId, sendIfEmpty = true): void {
  const pr = r.progress.get(to)!;
  if (pr.paused()) return;
  const log = r.log;
  const prevIndex = pr.next - 1;
  if (prevIndex < log.compactedIndex()) {
    sendSnapshot(r, to, pr);
    return;
  }
  const entries = log.slice(pr.next, log.lastIndex() + 1, r.cfg.maxBytesPerMessage);
  if (entries.length === 0 && !sendIfEmpty && pr.state === 'replicate') return;
  r.send({ type: 'append', to, prevIndex, prevTerm: log.term(prevIndex), entries, commit: log.committed });
  pr.sentEntries(prevIndex + entries.length, entries.length);
}

function sendSnapshot(r: Raft, to: NodeId, pr: Progress): void {
  const log = r.log;
  r.send({ type: 'snapshot', to, meta: log.snapshot });
  pr.becomeSnapshot(log.snapshot.index);
}

export function bcastAppend(r: Raft, sendIfEmpty: boolean): void {
  // Learners too: they receive the log, they just do not count (thesis §4.2.1).
  for (const to of r.progress.keys()) if (to !== r.id) sendAppend(r, to, sendIfEmpty);
}

/** Sends a heartbeat round; every round is numbered so its acks confirm reads and the lease. */
export function bcastHeartbeat(r: Raft, context = r.readOnly.nextRound(r.id)): void {
  r.lease.roundSent(context);
  for (const [to, pr] of r.progress) {
    if (to === r.id) continue;
    // Never tell a follower of a commit index beyond what it is known to hold.
    r.send({ type: 'heartbeat', to, commit: Math.min(pr.match, r.log.committed), context });
  }
}

/**
 * Advances the commit index to the highest index stored on a majority, but only if that
 * entry is of the current term (Raft §5.4.2: earlier entries commit indirectly, Figure 8).
 */
export function maybeCommit(r: Raft): boolean {
  // Thesis §4.3: while joint, on a majority of the old AND of the new voters.
  const idx = r.quorumCfg.committedIndex((id) => r.progress.get(id)?.match);
  if (idx <= r.log.committed) return false;
  if (r.log.term(idx) !== r.term && !r.cfg.testingBugs.commitPreviousTerm) return false;
  r.log.commitTo(idx);
  releaseWaitingReads(r);
  afterCommit(r);
  return true;
}
