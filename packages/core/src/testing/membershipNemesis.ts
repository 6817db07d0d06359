import type { MemberChange, MembershipConfig } from '../consensus/membership/config.js';
import type { RawNode } from '../consensus/rawNode.js';
import type { NodeId } from '../consensus/types.js';
import { isRaftError } from '../errors.js';

/** What the nemesis may do to a simulated cluster. */
export interface MembershipHost {
  rand(): number;
  /** A node that currently believes it leads, or null. */
  leader(): RawNode | null;
  /** Creates a brand-new node with empty storage that knows no voters (it joins); its id. */
  spawn(): NodeId;
}

/** The counts a seed reports. */
export interface MembershipStats {
  changes: number;
  joint: number;
  transfers: number;
  refused: number;
  spawned: number;
}

/**
 * Membership churn for the message-level simulation: through the current leader, adds brand-new
 * nodes as learners, promotes them, removes voters (the leader too) and learners, swaps a
 * voter for a learner in one joint change, and transfers leadership; all interleaved with the
 * simulation's partitions, crashes, slow disks and lossy links. Changes the core refuses
 * (one in flight, a learner behind, ...) are counted, not errors.
 */
export class MembershipNemesis {
  readonly stats: MembershipStats = { changes: 0, joint: 0, transfers: 0, refused: 0, spawned: 0 };

  constructor(
    private readonly host: MembershipHost,
    private readonly maxVoters: number,
    private readonly maxSpawned: number,
  ) {}

  /** One action, if a leader is known. */
  act(): void {
    const leader = this.host.leader();
    if (!leader) return;
    const cfg = leader.membership().config;
    const r = this.host.rand();
    try {
      if (r < 0.2) this.transfer(leader, cfg);
      else if (r < 0.4) this.grow(leader, cfg);
      else if (r < 0.6) this.promote(leader, cfg);
      else if (r < 0.8) this.shrink(leader, cfg);
      else this.swap(leader, cfg);
    } catch (err) {
      if (!isRaftError(err) || err.fatal) throw err;
      this.stats.refused++;
    }
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.host.rand() * xs.length)];
  }

  private propose(leader: RawNode, changes: MemberChange[]): void {
    leader.proposeConfChange({ changes }, { maxLearnerLag: 20 });
    this.stats.changes++;
    if (changes.filter((c) => c.type !== 'addLearner').length > 1) this.stats.joint++;
  }

  private transfer(leader: RawNode, cfg: MembershipConfig): void {
    const to = this.pick(cfg.voters.filter((id) => id !== leader.id));
    if (to === undefined) return;
    leader.transferLeadership(to);
    this.stats.transfers++;
  }

  /** A brand-new node joins as a learner (the first half of "add" and of "replace"). */
  private grow(leader: RawNode, cfg: MembershipConfig): void {
    if (this.stats.spawned >= this.maxSpawned || cfg.voters.length + cfg.learners.length > this.maxVoters) return;
    const id = this.host.spawn();
    this.stats.spawned++;
    this.propose(leader, [{ type: 'addLearner', node: id }]);
  }

  private promote(leader: RawNode, cfg: MembershipConfig): void {
    const id = this.pick(cfg.learners);
    if (id === undefined || cfg.voters.length >= this.maxVoters) return;
    this.propose(leader, [{ type: 'addVoter', node: id }]);
  }

  /** Removes a voter (sometimes the leader itself) or a learner, never the last voter. */
  private shrink(leader: RawNode, cfg: MembershipConfig): void {
    const voters = cfg.voters.length > 1 ? cfg.voters : [];
    const id = this.pick([...voters, ...cfg.learners]);
    if (id === undefined) return;
    this.propose(leader, [{ type: 'removeNode', node: id }]);
  }

  /** Replaces a voter by a learner in one change: two voters change, so it goes joint (§4.3). */
  private swap(leader: RawNode, cfg: MembershipConfig): void {
    const learner = this.pick(cfg.learners);
    const voter = this.pick(cfg.voters);
    if (learner === undefined || voter === undefined || cfg.voters.length < 2) return;
    this.propose(leader, [
      { type: 'addVoter', node: learner },
      { type: 'removeNode', node: voter },
    ]);
  }
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x) => b.includes(x));

/**
 * The rule every committed configuration sequence obeys: each differs from the one before by
 * at most one voter (thesis §4.2), or enters a joint configuration from it (C_old becomes the
 * outgoing half) or leaves one (C_new stays). Returns why a transition breaks it, or null.
 */
export function badTransition(prev: MembershipConfig, next: MembershipConfig): string | null {
  const joint = (c: MembershipConfig): boolean => c.votersOutgoing.length > 0;
  if (!joint(prev) && joint(next)) {
    return sameSet(next.votersOutgoing, prev.voters) ? null : 'entered a joint configuration whose C_old is not the previous voters';
  }
  if (joint(prev) && !joint(next)) {
    return sameSet(next.voters, prev.voters) ? null : 'left a joint configuration for other voters than its C_new';
  }
  if (joint(prev) && joint(next)) return 'went from one joint configuration to another';
  const diff = prev.voters.filter((v) => !next.voters.includes(v)).length + next.voters.filter((v) => !prev.voters.includes(v)).length;
  return diff <= 1 ? null : `changed ${diff} voters in one step`;
}
