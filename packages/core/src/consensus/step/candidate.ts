import type { Raft } from '../raft.js';
import type { Message } from '../types.js';
import { handleAppend, handleHeartbeat, handleSnapshot } from './follower.js';
import { answerRead } from './reads.js';

/** Followers, pre-candidates and candidates: start an election when the timeout expires (Raft §5.2). */
export function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTicks) r.bootGuard = false;
  // A learner (or a node not yet added, or removed) never campaigns, so its timer must not
  // restart either: a restarted timer would keep it loyal to a dead leader (the leader
  // stickiness check), and a joint configuration that needs its vote could not elect anyone.
  if (!r.mayCampaign()) return;
  if (r.electionElapsed >= r.randomizedElectionTimeout) {
    r.electionElapsed = 0;
    r.campaign(r.cfg.preVote);
  }
}

/** Pre-candidates and candidates. */
export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
      // Raft §5.2: a leader of our term exists; return to follower.
      r.becomeFollower(m.term, m.from);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case 'voteResponse':
      if (m.preVote !== (r.role === 'pre-candidate')) return;
      if (r.votes.has(m.from)) return;
      r.votes.set(m.from, m.granted);
      r.pollResult();
      return;
    case 'readIndex':
      answerRead(r, m.requestId, m.from, 0);
      return;
    default:
      return;
  }
}
