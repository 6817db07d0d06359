import { ErrorCode, NotLeaderError, RaftError } from '../../errors.js';
import { type ConfChange, type MembershipConfig, isJoint, quorumOf } from '../membership/config.js';
import { applyConfChange, leaveJoint } from '../membership/changer.js';
import { encodeConfEntry, pruneAddresses } from '../membership/entry.js';
import { type Raft, bootstrapState, transferInProgress } from '../raft.js';
import { EntryType, type NodeId } from '../types.js';
import { bcastAppend } from './replication.js';
import { bestTransferee, sendTimeoutNow } from './transfer.js';

/** Options of a proposed membership change. */
export interface ConfChangeOptions {
  /** Addresses of new members (merged into the known ones; non-members' are dropped). */
  readonly addresses?: Readonly<Record<NodeId, string>>;
  /**
   * A node may become a voter only if it is at most this many entries behind the leader's
   * log (a learner being promoted, or a node added as a voter directly). Default: no limit.
   */
  readonly maxLearnerLag?: number;
}

/**
 * Makes `r.conf` the latest configuration of its log (thesis §4.1: a server uses the latest
 * configuration in its log, committed or not), after anything that changed the log: an
 * append, a truncation (which may fall back to an older configuration) or a snapshot.
 */
export function refreshConf(r: Raft): void {
  const latest = r.log.latestConf();
  if (latest === null) {
    if (r.confIndex === 0) return; // still the bootstrap configuration
    setConf(r, 0, bootstrapState(r.cfg));
    return;
  }
  if (latest.index === r.confIndex && latest.state === r.conf) return;
  setConf(r, latest.index, latest.state);
}

function setConf(r: Raft, index: number, state: Raft['conf']): void {
  r.conf = state;
  r.confIndex = index;
  r.quorumCfg = quorumOf(state.config);
  if (r.role === 'leader') r.syncProgress();
  else if (r.role !== 'follower' && !r.mayCampaign()) r.becomeFollower(r.term, null);
}

const inProgress = (why: string): RaftError =>
  new RaftError(ErrorCode.MembershipChangeInProgress, `a membership change cannot start now: ${why}`);

/**
 * Leader: proposes a membership change (thesis §4.2, §4.3). Returns the index of its entry.
 * Refused (coded, nothing appended) unless this node leads, no transfer is under way, the
 * previous change is committed and left (one change in flight), and an entry of this
 * leader's term is committed (Ongaro, raft-dev 2015: without that, a change proposed by a
 * new leader can overlap an uncommitted one of its predecessor and split the majorities).
 */
export function proposeConfChange(r: Raft, cc: ConfChange, opts: ConfChangeOptions = {}): number {
  if (r.role !== 'leader') throw new NotLeaderError(r.leader);
  if (r.leadTransferee !== null) throw transferInProgress(r.leadTransferee);
  checkOneInFlight(r, cc);
  const next = applyConfChange(r.conf.config, cc);
  checkLag(r, next, opts.maxLearnerLag ?? Number.POSITIVE_INFINITY);
  const given = opts.addresses ?? {};
  for (const [id, url] of Object.entries(given)) {
    if (typeof url !== 'string' || url === '') {
      throw new RaftError(ErrorCode.InvalidArgument, `the address of ${id} must be a non-empty string`);
    }
  }
  return appendConf(r, next, { ...r.conf.addresses, ...given });
}

function checkOneInFlight(r: Raft, cc: ConfChange): void {
  if (r.cfg.testingBugs.overlappingConfChanges === true) return;
  if (r.confIndex > r.log.committed) throw inProgress(`the change at index ${r.confIndex} is not committed yet`);
  if (isJoint(r.conf.config) && cc.changes.length > 0) {
    throw inProgress('the cluster is in a joint configuration; it must be left first');
  }
  if (r.log.term(r.log.committed) !== r.term) {
    throw inProgress('this leader has not committed an entry of its own term yet; retry shortly');
  }
}

/**
 * Leader: whether a membership change is refused now only for a reason that passes by itself
 * (the previous change not committed yet, a joint configuration this leader leaves on its own,
 * no entry of its term committed yet). False when a change could start, and when the refusal
 * would not pass by waiting (not leader, a transfer, a joint configuration left only on request).
 */
export function confChangeSoonPossible(r: Raft): boolean {
  if (r.role !== 'leader' || r.leadTransferee !== null) return false;
  if (r.confIndex > r.log.committed) return true;
  if (isJoint(r.conf.config)) return r.conf.config.autoLeave;
  return r.log.term(r.log.committed) !== r.term;
}

function appendConf(r: Raft, config: MembershipConfig, addresses: Readonly<Record<NodeId, string>>): number {
  const data = encodeConfEntry({ config, addresses: pruneAddresses(config, addresses) });
  return r.appendEntries([{ type: EntryType.ConfChange, data }]);
}

/** A node that becomes a voter must hold nearly all of the log, or the quorum waits on it. */
function checkLag(r: Raft, next: MembershipConfig, maxLag: number): void {
  const last = r.log.lastIndex();
  for (const id of [...next.voters, ...next.votersOutgoing]) {
    if (r.isVoter(id)) continue;
    const match = r.progress.get(id)?.match ?? 0;
    if (last - match > maxLag) {
      throw new RaftError(
        ErrorCode.LearnerBehind,
        `${id} cannot become a voter: it holds the log up to ${match}, ${last - match} entries behind the leader's ${last} ` +
          `(at most ${maxLag} allowed); add it as a learner and promote it once it has caught up`,
      );
    }
  }
}

/**
 * Leader, after its commit index advanced: leave a committed joint configuration that asked
 * for it (etcd's auto-leave; a new leader finishes what its predecessor started, since this
 * runs once its own first entry commits), and step down once the configuration that
 * removed this node is committed (thesis §4.2.2), handing over to an up-to-date voter.
 */
export function afterCommit(r: Raft): void {
  if (r.role !== 'leader' || r.log.committed < r.confIndex) return;
  const cfg = r.conf.config;
  if (isJoint(cfg)) {
    if (cfg.autoLeave && r.leadTransferee === null) appendConf(r, leaveJoint(cfg), r.conf.addresses);
    return;
  }
  if (r.isVoter(r.id)) return;
  // Tell everyone the commit index first, so the change is known committed without us.
  bcastAppend(r, true);
  const heir = bestTransferee(r);
  if (heir !== null && r.progress.get(heir)!.match === r.log.lastIndex()) sendTimeoutNow(r, heir);
  r.becomeFollower(r.term, null);
}
