import { describeMembership, isJoint, validateMembership, type MembershipConfig, type MembershipStatus } from '@raftkit/core';
import { Violation } from './safety.js';

const keyOf = (c: MembershipConfig): string => describeMembership(c);
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
const voterDiff = (a: MembershipConfig, b: MembershipConfig): string[] => [
  ...a.voters.filter((x) => !b.voters.includes(x)),
  ...b.voters.filter((x) => !a.voters.includes(x)),
];

/**
 * Whether `next` may follow `prev` directly in a committed log (thesis §4.2, §4.3): one voter
 * added or removed at a time, or entering a joint configuration whose outgoing half is exactly
 * `prev`'s voters, or leaving a joint configuration for its incoming half. Learners may change
 * freely. Returns what is wrong, or null.
 */
export function oneChangeRule(prev: MembershipConfig, next: MembershipConfig): string | null {
  if (isJoint(prev) && isJoint(next)) return 'a joint configuration followed by another joint one';
  if (isJoint(next)) return sameSet(next.votersOutgoing, prev.voters) ? null : 'a joint configuration whose outgoing voters are not the previous voters';
  if (isJoint(prev)) return sameSet(next.voters, prev.voters) ? null : 'leaving a joint configuration for other voters than its incoming half';
  const diff = voterDiff(prev, next);
  return diff.length <= 1 ? null : `${diff.length} voters changed in one step (${diff.join(', ')})`;
}

/**
 * State machine safety for configuration entries, and the rules of membership changes, as
 * the nodes apply them: every node's sequence of applied configurations is a run of one
 * global sequence (no node applies another configuration at an index, none skips one another
 * node applied), consecutive committed configurations obey the one-change rule, every
 * configuration is valid, and only a voter of its own configuration is ever elected.
 */
export class MembershipChecker {
  /** The global sequence: index -> the configuration applied there, as first applied. */
  private readonly global = new Map<number, { key: string; config: MembershipConfig; node: string }>();
  /** Per node: index of the configuration it applied last in its current run of applies. */
  private readonly last = new Map<string, number>();
  /** Consecutive pairs seen applied by some node: index -> the next configuration's index. */
  private readonly successor = new Map<number, number>();
  readonly counts = { configs: 0, joint: 0 };

  /** The node restarted or installed a snapshot: its next configuration starts a new run. */
  restart(node: string): void {
    this.last.delete(node);
  }

  /** `node` applied the configuration entry at `index` (it is committed). */
  applied(node: string, index: number, config: MembershipConfig): void {
    const key = keyOf(config);
    const seen = this.global.get(index);
    if (seen && seen.key !== key) {
      throw new Violation('configuration state machine safety', `${node} applied ${key} at index ${index}, ${seen.node} applied ${seen.key}`);
    }
    if (!seen) {
      try {
        validateMembership(config);
      } catch (err) {
        throw new Violation('valid configuration', `${node} applied an invalid configuration at ${index}: ${(err as Error).message}`);
      }
      if (config.voters.length === 0) throw new Violation('valid configuration', `${node} applied a configuration without voters at ${index}`);
      this.global.set(index, { key, config, node });
      this.counts.configs++;
      if (isJoint(config)) this.counts.joint++;
      this.checkNotBetween(index);
    }
    const prev = this.last.get(node);
    this.last.set(node, index);
    if (prev === undefined || prev === index) return;
    if (prev > index) throw new Violation('configuration order', `${node} applied the configuration at ${index} after the one at ${prev}`);
    this.certify(node, prev, index);
  }

  /** `prev` and `next` are consecutive configurations of `node`'s log: check the pair. */
  private certify(node: string, prev: number, next: number): void {
    const known = this.successor.get(prev);
    if (known !== undefined && known !== next) {
      throw new Violation('configuration sequence', `${node} applied configurations ${prev} then ${next}; another node applied ${prev} then ${known}`);
    }
    for (const i of this.global.keys()) {
      if (i > prev && i < next) throw new Violation('configuration sequence', `${node} went from configuration ${prev} to ${next}, skipping the one another node applied at ${i}`);
    }
    this.successor.set(prev, next);
    const a = this.global.get(prev)!.config;
    const b = this.global.get(next)!.config;
    const broken = oneChangeRule(a, b);
    if (broken) throw new Violation('one change at a time', `committed configurations ${prev} (${keyOf(a)}) and ${next} (${keyOf(b)}): ${broken}`);
  }

  /** A configuration first seen at `index` must not fall between a pair already known consecutive. */
  private checkNotBetween(index: number): void {
    for (const [prev, next] of this.successor) {
      if (prev < index && index < next) throw new Violation('configuration sequence', `a node applied a configuration at ${index}, between ${prev} and ${next} that another applied as consecutive`);
    }
  }

  /** What `node` reports (RaftNode.membership()) must agree with what was applied. */
  reported(node: string, m: MembershipStatus): void {
    if (!m.committed || m.index === 0) return;
    const seen = this.global.get(m.index);
    if (seen && seen.key !== keyOf(m.config)) {
      throw new Violation('configuration state machine safety', `${node} reports ${keyOf(m.config)} committed at ${m.index}, but ${seen.node} applied ${seen.key} there`);
    }
  }

  /**
   * Only a voter may win an election: of its latest configuration, or, while that one is not
   * committed, of the one before it (thesis §4.2.2: a server being removed may still be needed
   * to commit its removal). Learners, removed nodes and nodes never added never lead.
   */
  leaderElected(node: string, term: number, m: MembershipStatus): void {
    const votes = (c: MembershipConfig) => c.voters.includes(node) || c.votersOutgoing.includes(node);
    if (votes(m.config)) return;
    const before = m.committed ? undefined : [...this.global].filter(([i]) => i < m.index).sort(([a], [b]) => b - a)[0]?.[1];
    if (before && votes(before.config)) return;
    if (!m.committed && !before) return; // its committed configuration is not known here yet
    throw new Violation('only voters lead', `${node} became leader of term ${term} but is not a voter of its configuration ${keyOf(m.config)}${before ? ` nor of the committed ${before.key} before it` : ''}`);
  }
}
