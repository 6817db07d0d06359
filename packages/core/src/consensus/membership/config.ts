import { ErrorCode, RaftError } from '../../errors.js';
import type { NodeId } from '../types.js';
import { JointConfig } from './joint.js';

/**
 * A cluster membership configuration, as carried by configuration-change entries and
 * snapshot metadata (thesis §4.1, §4.3). Plain data, so it can be serialized as is.
 *
 * Invariants (checked by {@link validate}):
 * - no list holds a duplicate or an empty id;
 * - `voters` is non-empty, unless the whole configuration is empty (never bootstrapped);
 * - learners are never voters of either half (a node has one role at a time);
 * - not joint (`votersOutgoing` empty) implies `learnersNext` empty and `autoLeave` false;
 * - each of `learnersNext` is an outgoing voter that is neither an incoming voter nor a
 *   learner: it still votes in C_old and becomes a learner when the joint config is left.
 */
export interface MembershipConfig {
  /** The incoming voters: C_new in a joint configuration, the only voters otherwise. */
  readonly voters: readonly NodeId[];
  /** The outgoing voters C_old while joint; empty otherwise. */
  readonly votersOutgoing: readonly NodeId[];
  /** Non-voting members: they receive the log but never vote or count toward quorum. */
  readonly learners: readonly NodeId[];
  /** Outgoing voters that become learners when the joint configuration is left. */
  readonly learnersNext: readonly NodeId[];
  /** While joint: the leader leaves the joint configuration by itself once it is committed. */
  readonly autoLeave: boolean;
}

/** One member change; `addVoter` of a learner promotes it, `addLearner` of a voter demotes it. */
export interface MemberChange {
  readonly type: 'addVoter' | 'addLearner' | 'removeNode';
  readonly node: NodeId;
}

/**
 * A requested configuration change (etcd ConfChangeV2 semantics):
 * - `auto` (default): one-step (thesis §4.2) if at most one voter changes, else joint with
 *   auto-leave; an empty change list leaves a joint configuration;
 * - `joint-implicit`: always joint, left automatically once committed;
 * - `joint-explicit`: always joint, left only by a later empty change.
 */
export interface ConfChange {
  readonly changes: readonly MemberChange[];
  readonly transition?: 'auto' | 'joint-explicit' | 'joint-implicit';
}

/** The configuration of a node that has not been bootstrapped or told its membership yet. */
export const emptyConfig: MembershipConfig = Object.freeze({
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
});

/** A fresh, non-joint configuration of the given voters (and learners). */
export function bootstrapConfig(voters: readonly NodeId[], learners: readonly NodeId[] = []): MembershipConfig {
  const cfg: MembershipConfig = {
    voters: [...voters].sort(),
    votersOutgoing: [],
    learners: [...learners].sort(),
    learnersNext: [],
    autoLeave: false,
  };
  validate(cfg);
  return cfg;
}

export function isJoint(cfg: MembershipConfig): boolean {
  return cfg.votersOutgoing.length > 0;
}

/** Every member (voters of both halves, learners, learners-next), each once, sorted. */
export function allMembers(cfg: MembershipConfig): NodeId[] {
  return [...new Set([...cfg.voters, ...cfg.votersOutgoing, ...cfg.learners, ...cfg.learnersNext])].sort();
}

/** The quorum of this configuration: both majorities while joint. */
export function quorumOf(cfg: MembershipConfig): JointConfig {
  return new JointConfig(cfg.voters, cfg.votersOutgoing);
}

/**
 * A stable rendering for logs and tests, independent of list order, e.g.
 * `voters=(a b d)&&(a b c) learners=(x) learners_next=(c) autoleave`.
 */
export function describe(cfg: MembershipConfig): string {
  const list = (ids: readonly NodeId[]): string => `(${[...ids].sort().join(' ')})`;
  let s = `voters=${list(cfg.voters)}`;
  if (isJoint(cfg)) s += `&&${list(cfg.votersOutgoing)}`;
  if (cfg.learners.length > 0) s += ` learners=${list(cfg.learners)}`;
  if (cfg.learnersNext.length > 0) s += ` learners_next=${list(cfg.learnersNext)}`;
  if (cfg.autoLeave) s += ' autoleave';
  return s;
}

const invalid = (cfg: MembershipConfig, why: string): RaftError =>
  new RaftError(ErrorCode.InvalidArgument, `invalid membership configuration ${describe(cfg)}: ${why}`);

function checkList(cfg: MembershipConfig, name: string, ids: readonly NodeId[]): Set<NodeId> {
  const set = new Set<NodeId>();
  for (const id of ids) {
    if (typeof id !== 'string' || id === '') throw invalid(cfg, `${name} holds an empty or non-string node id`);
    if (set.has(id)) throw invalid(cfg, `node ${id} appears twice in ${name}`);
    set.add(id);
  }
  return set;
}

/**
 * Checks every invariant listed on {@link MembershipConfig}; throws a coded
 * `RAFT_INVALID_ARGUMENT` naming the first one broken. Use it on any configuration that
 * comes from outside (a decoded log entry or snapshot) before trusting it.
 */
export function validate(cfg: MembershipConfig): void {
  const voters = checkList(cfg, 'voters', cfg.voters);
  const outgoing = checkList(cfg, 'votersOutgoing', cfg.votersOutgoing);
  const learners = checkList(cfg, 'learners', cfg.learners);
  const next = checkList(cfg, 'learnersNext', cfg.learnersNext);
  if (voters.size === 0 && (outgoing.size > 0 || learners.size > 0)) throw invalid(cfg, 'there are no voters');
  for (const id of learners) {
    if (voters.has(id) || outgoing.has(id)) throw invalid(cfg, `node ${id} is both a learner and a voter`);
  }
  if (outgoing.size === 0) {
    if (next.size > 0) throw invalid(cfg, 'learnersNext is only allowed in a joint configuration');
    if (cfg.autoLeave) throw invalid(cfg, 'autoLeave is only allowed in a joint configuration');
  }
  for (const id of next) {
    if (!outgoing.has(id)) throw invalid(cfg, `learner-next ${id} is not an outgoing voter`);
    if (voters.has(id)) throw invalid(cfg, `learner-next ${id} is also an incoming voter`);
    if (learners.has(id)) throw invalid(cfg, `learner-next ${id} is already a learner`);
  }
}
