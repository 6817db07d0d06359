import { ErrorCode, RaftError } from '../../errors.js';
import type { NodeId } from '../types.js';
import { type ConfChange, type MemberChange, type MembershipConfig, describe, isJoint, validate } from './config.js';

/**
 * Pure transitions between membership configurations (thesis §4.2 single-server changes,
 * §4.3 joint consensus). Every function validates its input, returns a new configuration
 * (lists sorted) and never mutates its argument; a refused change throws a coded
 * `RAFT_INVALID_ARGUMENT` and leaves nothing half-applied.
 *
 * What this module does NOT enforce, because it needs the log: "at most one change in
 * flight" beyond the joint state (an uncommitted change entry), and "only after an entry of
 * the leader's own term is committed" (Ongaro, raft-dev 2015). The leader checks those
 * before proposing; this module checks everything that depends only on the configuration.
 */

/** Mutable working copy; only ever lives inside one call. */
interface Working {
  voters: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  next: Set<NodeId>;
}

const refuse = (message: string): RaftError => new RaftError(ErrorCode.InvalidArgument, message);

function working(cfg: MembershipConfig): Working {
  return {
    voters: new Set(cfg.voters),
    outgoing: new Set(cfg.votersOutgoing),
    learners: new Set(cfg.learners),
    next: new Set(cfg.learnersNext),
  };
}

function finish(w: Working, autoLeave: boolean): MembershipConfig {
  const cfg: MembershipConfig = {
    voters: [...w.voters].sort(),
    votersOutgoing: [...w.outgoing].sort(),
    learners: [...w.learners].sort(),
    learnersNext: [...w.next].sort(),
    autoLeave,
  };
  try {
    validate(cfg);
  } catch (err) {
    // The input was valid and every step keeps the invariants: this is a bug here.
    throw new RaftError(ErrorCode.InvariantViolated, `membership changer produced ${describe(cfg)}`, { cause: err });
  }
  return cfg;
}

function applyOne(w: Working, { type, node }: MemberChange): void {
  switch (type) {
    case 'addVoter':
      if (w.voters.has(node)) throw refuse(`node ${node} is already a voter`);
      w.learners.delete(node);
      w.next.delete(node);
      w.voters.add(node);
      return;
    case 'addLearner':
      if (w.learners.has(node) || w.next.has(node)) throw refuse(`node ${node} is already a learner`);
      if (w.voters.delete(node) && w.outgoing.has(node)) {
        // Thesis §4.3: it still votes in C_old until the joint configuration is left.
        w.next.add(node);
      } else {
        w.learners.add(node);
      }
      return;
    case 'removeNode':
      if (!w.voters.has(node) && !w.learners.has(node) && !w.next.has(node)) {
        throw refuse(`node ${node} is not a member`);
      }
      // An outgoing voter stays in C_old: it keeps voting until the joint config is left.
      w.voters.delete(node);
      w.learners.delete(node);
      w.next.delete(node);
      return;
    default:
      throw refuse(`unknown member change type ${JSON.stringify(type)}`);
  }
}

function applyAll(w: Working, changes: readonly MemberChange[]): void {
  if (!Array.isArray(changes) || changes.length === 0) {
    throw refuse('a configuration change needs at least one member change');
  }
  const seen = new Set<NodeId>();
  for (const change of changes) {
    const node = change?.node;
    if (typeof node !== 'string' || node === '') throw refuse('a member change needs a non-empty node id');
    if (seen.has(node)) throw refuse(`node ${node} appears twice in one configuration change`);
    seen.add(node);
    applyOne(w, change);
  }
  if (w.voters.size === 0) throw refuse('removing the last voter: the configuration would have no voters');
}

function checkNotJoint(cfg: MembershipConfig): void {
  validate(cfg);
  if (isJoint(cfg)) {
    throw refuse(
      `a configuration change is already in progress (joint ${describe(cfg)}); leave the joint configuration first`,
    );
  }
}

/** Number of voters added or removed between two voter sets (their symmetric difference). */
function votersChanged(before: ReadonlySet<NodeId>, after: ReadonlySet<NodeId>): number {
  let n = 0;
  for (const id of before) if (!after.has(id)) n++;
  for (const id of after) if (!before.has(id)) n++;
  return n;
}

/**
 * One-step change (thesis §4.2): allowed only outside a joint configuration and only if at
 * most one voter is added or removed, because then every majority of the old voters
 * intersects every majority of the new ones. Learner changes are free.
 */
export function simple(cfg: MembershipConfig, changes: readonly MemberChange[]): MembershipConfig {
  checkNotJoint(cfg);
  const w = working(cfg);
  applyAll(w, changes);
  if (votersChanged(new Set(cfg.voters), w.voters) > 1) {
    throw refuse('a simple change may change at most one voter; use a joint change');
  }
  return finish(w, false);
}

/**
 * Enters the joint configuration C_old,new (thesis §4.3): the current voters become the
 * outgoing half, the changes are applied to the incoming half. A voter demoted to learner
 * goes to `learnersNext`, since it must keep voting in C_old until the change is left.
 * `autoLeave`: the leader leaves by itself once this configuration is committed.
 */
export function enterJoint(cfg: MembershipConfig, changes: readonly MemberChange[], autoLeave: boolean): MembershipConfig {
  checkNotJoint(cfg);
  if (cfg.voters.length === 0) throw refuse('cannot enter a joint configuration from one without voters');
  const w = working(cfg);
  w.outgoing = new Set(cfg.voters);
  applyAll(w, changes);
  return finish(w, autoLeave);
}

/**
 * Leaves the joint configuration for C_new (thesis §4.3): the outgoing half is dropped and
 * demoted voters (`learnersNext`) become learners.
 */
export function leaveJoint(cfg: MembershipConfig): MembershipConfig {
  validate(cfg);
  if (!isJoint(cfg)) throw refuse(`there is no joint configuration to leave (${describe(cfg)})`);
  const w = working(cfg);
  for (const id of w.next) w.learners.add(id);
  w.next.clear();
  w.outgoing.clear();
  return finish(w, false);
}

/**
 * Applies a {@link ConfChange} the way etcd's ConfChangeV2 does: an empty change list leaves
 * the joint configuration; `joint-implicit` / `joint-explicit` always go joint (with / without
 * auto-leave). `auto` takes the one-step path when at most one voter changes (stricter than
 * "one change", so two learners can be added at once) and otherwise enters joint with
 * auto-leave.
 */
export function applyConfChange(cfg: MembershipConfig, cc: ConfChange): MembershipConfig {
  const transition = cc.transition ?? 'auto';
  if (!Array.isArray(cc.changes)) throw refuse('a configuration change needs a list of member changes');
  if (cc.changes.length === 0) return leaveJoint(cfg);
  switch (transition) {
    case 'joint-implicit':
      return enterJoint(cfg, cc.changes, true);
    case 'joint-explicit':
      return enterJoint(cfg, cc.changes, false);
    case 'auto': {
      checkNotJoint(cfg);
      const w = working(cfg);
      applyAll(w, cc.changes);
      const oneStep = votersChanged(new Set(cfg.voters), w.voters) <= 1;
      return oneStep ? simple(cfg, cc.changes) : enterJoint(cfg, cc.changes, true);
    }
    default:
      throw refuse(`unknown configuration change transition ${JSON.stringify(transition)}`);
  }
}
