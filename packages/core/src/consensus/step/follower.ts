import { ErrorCode, RaftError } from '../../errors.js';
import type { Raft } from '../raft.js';
import { refreshConf } from './membership.js';
import { handleTimeoutNow } from './transfer.js';
import { answerRead, forwardedAnswered } from './reads.js';
import type { AppendRequest, HeartbeatRequest, Message, SnapshotRequest } from '../types.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
      r.electionElapsed = 0;
      r.leader = m.from;
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.electionElapsed = 0;
      r.leader = m.from;
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.electionElapsed = 0;
      r.leader = m.from;
      handleSnapshot(r, m);
      return;
    case 'readIndexResponse':
      forwardedAnswered(r, m.requestId, m.index);
      return;
    case 'readIndex':
      answerRead(r, m.requestId, m.from, 0);
      return;
    case 'timeoutNow':
      handleTimeoutNow(r, m);
      return;
    default:
      return;
  }
}

/** Raft §5.3: the consistency check, conflict truncation and commit propagation. */
export function handleAppend(r: Raft, m: AppendRequest): void {
  const log = r.log;
  if (m.prevIndex < log.committed) {
    // Everything up to our commit index is settled; tell the leader where we are.
    r.send({ type: 'appendResponse', to: m.from, success: true, index: log.committed, conflictTerm: 0, conflictIndex: 0 });
    return;
  }
  if (log.matchTerm(m.prevIndex, m.prevTerm)) {
    const lastNew = log.merge(m.prevIndex, m.entries);
    refreshConf(r);
    const committedBefore = log.committed;
    log.commitTo(Math.min(m.commit, lastNew));
    // A commit notice (no entries; it only moved our commit index) for entries we already
    // acknowledged to this leader in this term: an answer would tell it nothing, so none goes,
    // one message less per follower and commit. Were our earlier acknowledgement lost, the
    // leader's next heartbeat answer shows it our match is behind and it sends an append that
    // moves nothing, which is answered.
    const ack = r.lastAck;
    if (m.entries.length === 0 && log.committed > committedBefore && ack?.to === m.from && ack.term === r.term && ack.index >= lastNew) return;
    r.lastAck = { to: m.from, term: r.term, index: lastNew };
    r.send({ type: 'appendResponse', to: m.from, success: true, index: lastNew, conflictTerm: 0, conflictIndex: 0 });
    return;
  }
  // Fast backtracking: name the conflicting term and where it starts, so the leader can skip
  // the whole term in one round trip instead of one index at a time.
  let conflictTerm = 0;
  let conflictIndex = log.lastIndex() + 1;
  if (m.prevIndex <= log.lastIndex()) {
    conflictTerm = log.term(m.prevIndex);
    conflictIndex = log.firstIndexOfTerm(m.prevIndex, conflictTerm);
  }
  r.send({ type: 'appendResponse', to: m.from, success: false, index: m.prevIndex, conflictTerm, conflictIndex });
}

export function handleHeartbeat(r: Raft, m: HeartbeatRequest): void {
  // The leader caps `commit` at the match index we acknowledged in this term, so we held that
  // entry durably. If it is gone now, our storage lost entries behind our back (a damaged or
  // truncated WAL, a restored old copy): carrying on would count a vote or an ack we can no
  // longer back, so stop (etcd panics here too: "Was the raft log corrupted, truncated, or lost?").
  if (m.commit > r.log.lastIndex()) {
    throw new RaftError(
      ErrorCode.StorageLost,
      `node ${r.id}: leader ${m.from} (term ${m.term}) says this node acknowledged entries up to ${m.commit}, ` +
        `but its log ends at ${r.log.lastIndex()}: its storage lost acknowledged entries (damaged, truncated or ` +
        `replaced data). Keep it stopped, wipe its data directory and start it again, empty, only after the cluster ` +
        `has a new leader (this one remembers what the node acknowledged); with membership changes: remove and re-add it.`,
    );
  }
  r.log.commitTo(m.commit);
  r.send({ type: 'heartbeatResponse', to: m.from, context: m.context });
}

/** Raft §7: install a leader's snapshot unless our log already covers it. */
export function handleSnapshot(r: Raft, m: SnapshotRequest): void {
  const { index, term } = m.meta;
  const log = r.log;
  if (index <= log.committed) {
    r.send({ type: 'appendResponse', to: m.from, success: true, index: log.committed, conflictTerm: 0, conflictIndex: 0 });
    return;
  }
  if (log.matchTerm(index, term)) {
    log.commitTo(index);
  } else {
    log.restoreSnapshot(m.meta);
    refreshConf(r);
  }
  r.send({ type: 'appendResponse', to: m.from, success: true, index, conflictTerm: 0, conflictIndex: 0 });
}
