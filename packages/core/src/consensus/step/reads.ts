// Linearizable reads (thesis §6.4): ReadIndex on the leader, batched into heartbeat rounds;
// forwarded in batches from followers; the leader lease (§6.4.1).
import type { Raft } from '../raft.js';
import type { NodeId } from '../types.js';
import { bcastHeartbeat } from './replication.js';

/** Thesis §6.4: a linearizable read at the current commit index, once leadership is confirmed. */
export function readIndex(r: Raft, requestId: string, origin: NodeId = r.id): void {
  if (r.role === 'leader') {
    if (r.log.term(r.log.committed) !== r.term) {
      r.readOnly.wait(requestId, origin);
      return;
    }
    if (r.selfIsQuorum()) {
      answerRead(r, requestId, origin, r.log.committed);
      return;
    }
    r.readOnly.add(requestId, origin, r.log.committed);
    if (r.readOnly.needsRound()) bcastHeartbeat(r);
  } else if (r.leader !== null && origin === r.id) {
    r.forwarded.queue(requestId);
    forwardReads(r);
  } else {
    answerRead(r, requestId, origin, 0);
  }
}

/**
 * Thesis §6.4.1: may the leader serve a read at its commit index without a heartbeat round?
 * Only with check-quorum, after committing in its term, while a majority's acks hold the lease.
 */
export function leaseValid(r: Raft): boolean {
  if (r.role !== 'leader' || !r.cfg.checkQuorum) return false;
  // A leader handing over gives up its lease: voters may elect the target at once.
  if (r.leadTransferee !== null || r.leaseRevoked) return false;
  if (r.log.term(r.log.committed) !== r.term) return false;
  if (r.selfIsQuorum()) return true;
  return r.lease.valid(r.id, r.quorumCfg, r.cfg.electionTicks, r.cfg.leaseDriftTicks);
}

export function answerRead(r: Raft, requestId: string, origin: NodeId, index: number): void {
  if (origin === r.id) r.readStates.push({ requestId, index });
  else r.send({ type: 'readIndexResponse', to: origin, requestId, index });
}

/** The leader committed in its own term: reads that waited for that can proceed. */
export function releaseWaitingReads(r: Raft): void {
  for (const w of r.readOnly.takeWaiting()) readIndex(r, w.requestId, w.origin);
}

/** Follower: forwards the reads waiting, unless a recent forward is still unanswered. */
export function forwardReads(r: Raft): void {
  if (r.leader === null || r.leader === r.id) return;
  const batch = r.forwarded.take(Math.max(2, 2 * r.cfg.heartbeatTicks));
  if (batch !== null) r.send({ type: 'readIndex', to: r.leader, requestId: batch });
}

/** Follower: the leader answered forwarded batch `batch`. */
export function forwardedAnswered(r: Raft, batch: string, index: number): void {
  for (const requestId of r.forwarded.answered(batch)) r.readStates.push({ requestId, index });
  forwardReads(r);
}

/** Leadership or term changed: every pending read fails (index 0); callers retry. */
export function abortReads(r: Raft): void {
  for (const requestId of r.forwarded.clear()) r.readStates.push({ requestId, index: 0 });
  for (const read of r.readOnly.clear()) answerRead(r, read.requestId, read.origin, 0);
}
