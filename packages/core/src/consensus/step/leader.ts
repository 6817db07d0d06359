import type { Raft } from '../raft.js';
import type { AppendResponse, HeartbeatResponse, Message } from '../types.js';
import { invariant } from '../../errors.js';
import { bcastHeartbeat, maybeCommit, sendAppend } from './replication.js';
import { maybeSendTimeoutNow, tickTransfer } from './transfer.js';
import { answerRead, readIndex } from './reads.js';

export function tickLeader(r: Raft): void {
  r.lease.ticks++;
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTicks) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum && !checkQuorumActive(r)) {
      r.becomeFollower(r.term, null);
      return;
    }
  }
  tickTransfer(r);
  if (r.role !== 'leader') return;
  for (const [id, pr] of r.progress) {
    // A snapshot that is not acknowledged within an election timeout is presumed lost.
    if (pr.state === 'snapshot' && ++pr.snapshotTicks >= r.cfg.electionTicks) {
      pr.becomeProbe();
      sendAppend(r, id);
    }
  }
  if (r.heartbeatElapsed >= r.cfg.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r);
  }
}

/** Check-quorum: has a majority been heard from since the last check? Resets the marks. */
function checkQuorumActive(r: Raft): boolean {
  const active = new Set<string>();
  for (const [id, pr] of r.progress) {
    if (id === r.id || pr.recentActive) active.add(id);
    if (id !== r.id) pr.recentActive = false;
  }
  return r.quorumCfg.isQuorum(active);
}

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'appendResponse':
      handleAppendResponse(r, m);
      return;
    case 'heartbeatResponse':
      handleHeartbeatResponse(r, m);
      return;
    case 'readIndex':
      readIndex(r, m.requestId, m.from);
      return;
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      // Election safety (Raft §5.2): two leaders in one term is a broken invariant.
      invariant(false, `leader ${r.id} got ${m.type} from ${m.from} in its own term ${r.term}`);
      return;
    default:
      return;
  }
}

function handleAppendResponse(r: Raft, m: AppendResponse): void {
  const pr = r.progress.get(m.from);
  if (!pr) return; // not a member (any more)
  pr.recentActive = true;
  if (!m.success) {
    if (pr.maybeDecrTo(m.index, nextFromHint(r, m))) sendAppend(r, m.from);
    return;
  }
  const wasPaused = pr.paused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === 'probe') pr.becomeReplicate();
  else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
  else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
  if (maybeCommit(r)) r.pendingAppend.withCommit = true;
  // A follower that was paused may have missed a commit index broadcast meanwhile.
  else sendAppend(r, m.from, wasPaused);
  if (r.role === 'leader' && m.from === r.leadTransferee) maybeSendTimeoutNow(r);
}

/**
 * Where to probe next after a rejection: past the leader's last entry of the follower's
 * conflicting term if the leader has that term, else the first index of that term on the
 * follower (thesis §5.3 optimization). Either way one round trip per conflicting term.
 */
function nextFromHint(r: Raft, m: AppendResponse): number {
  if (m.conflictTerm > 0) {
    const last = r.log.lastIndexOfTerm(m.conflictTerm);
    if (last > 0) return last + 1;
  }
  return Math.max(m.conflictIndex, 1);
}

function handleHeartbeatResponse(r: Raft, m: HeartbeatResponse): void {
  const pr = r.progress.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  pr.probeSent = false;
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from);
  if (m.context > 0) {
    r.lease.acked(m.from, m.context, 2 * r.cfg.electionTicks);
    for (const read of r.readOnly.ack(m.from, m.context, r.quorumCfg)) {
      answerRead(r, read.requestId, read.origin, read.index);
    }
    // Reads that arrived while that round was in flight share the next one.
    if (r.readOnly.needsRound()) bcastHeartbeat(r);
  }
}
