import { ErrorCode, NotLeaderError, RaftError } from '../../errors.js';
import type { Raft } from '../raft.js';
import type { NodeId, TimeoutNowRequest } from '../types.js';
import { sendAppend } from './replication.js';

/**
 * Leadership transfer (thesis §3.10). The leader refuses new proposals, brings the target's
 * log up to date, then sends it TimeoutNow; the target campaigns at once, and voters that
 * follow this leader let it through their leader stickiness. The transfer is abandoned after
 * an election timeout. Sending TimeoutNow ends this leader's lease for the rest of its term.
 */
export function startTransfer(r: Raft, to: NodeId | null): NodeId {
  if (r.role !== 'leader') throw new NotLeaderError(r.leader);
  const target = to ?? bestTransferee(r);
  if (target === null) throw new RaftError(ErrorCode.InvalidArgument, 'there is no other voter to transfer leadership to');
  if (target === r.id) return target;
  if (!r.isVoter(target) || !r.progress.has(target)) {
    throw new RaftError(ErrorCode.InvalidArgument, `cannot transfer leadership to ${target}: it is not a voter`);
  }
  if (r.leadTransferee === target) return target;
  r.leadTransferee = target;
  r.transferElapsed = 0;
  r.transferSent = false;
  if (!maybeSendTimeoutNow(r)) sendAppend(r, target);
  return target;
}

/** The voter (other than this node) with the most of the log; incoming voters first. */
export function bestTransferee(r: Raft): NodeId | null {
  let best: NodeId | null = null;
  let bestKey = -1;
  for (const id of [...r.quorumCfg.ids()].sort()) {
    if (id === r.id) continue;
    const pr = r.progress.get(id);
    if (!pr) continue;
    // Prefer C_new's voters: an outgoing-only voter would have to hand over again.
    const key = pr.match * 2 + (r.quorumCfg.incoming.has(id) ? 1 : 0);
    if (key > bestKey) {
      best = id;
      bestKey = key;
    }
  }
  return best;
}

/** Sends TimeoutNow once the target holds the whole log. Returns whether it was sent. */
export function maybeSendTimeoutNow(r: Raft): boolean {
  const target = r.leadTransferee;
  if (target === null) return false;
  if (r.transferSent) return true;
  if (r.progress.get(target)?.match !== r.log.lastIndex()) return false;
  sendTimeoutNow(r, target);
  return true;
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.leaseRevoked = true;
  r.transferSent = true;
  r.send({ type: 'timeoutNow', to });
}

/** Leader tick: abandon a transfer that has not completed within an election timeout. */
export function tickTransfer(r: Raft): void {
  if (r.leadTransferee === null) return;
  if (++r.transferElapsed >= r.cfg.electionTicks) {
    r.leadTransferee = null;
    r.transferElapsed = 0;
  }
}

/** Follower: the leader of this term hands over; campaign now, without a pre-vote round. */
export function handleTimeoutNow(r: Raft, m: TimeoutNowRequest): void {
  if (m.from !== r.leader || !r.isVoter(r.id)) return;
  r.campaign(false, m.from);
}
