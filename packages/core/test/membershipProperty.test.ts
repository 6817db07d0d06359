import { describe, expect, test } from 'vitest';
import { seededRandom } from '../src/consensus/config.js';
import { committedIndex as plainCommitted, voteResult as plainVote } from './helpers/plainQuorum.js';
import { applyConfChange } from '../src/consensus/membership/changer.js';
import {
  type ConfChange,
  type MemberChange,
  type MembershipConfig,
  bootstrapConfig,
  describe as show,
  isJoint,
  validate,
} from '../src/consensus/membership/config.js';
import { JointConfig } from '../src/consensus/membership/joint.js';
import { ErrorCode, isRaftError } from '../src/errors.js';

const pool = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const subset = (rand: () => number, max: number): string[] => {
  const out = pool.filter(() => rand() < 0.5);
  return out.slice(0, Math.floor(rand() * (max + 1)));
};

/** Brute force: the largest k every non-empty half has on more than half of its voters. */
function referenceCommitted(halves: string[][], acks: Map<string, number>): number {
  const live = halves.filter((h) => h.length > 0);
  if (live.length === 0) return 0;
  let best = 0;
  for (let k = 0; k <= 20; k++) {
    if (live.every((h) => 2 * h.filter((id) => (acks.get(id) ?? 0) >= k).length > h.length)) best = k;
  }
  return best;
}

/** Brute force: try every completion of the missing votes. */
function referenceVote(halves: string[][], votes: Map<string, boolean>): string {
  const live = halves.filter((h) => h.length > 0);
  if (live.length === 0) return 'lost';
  const missing = [...new Set(live.flat())].filter((id) => !votes.has(id));
  let anyWin = false;
  let anyLoss = false;
  for (let mask = 0; mask < 1 << missing.length; mask++) {
    const full = new Map(votes);
    missing.forEach((id, i) => full.set(id, (mask & (1 << i)) !== 0));
    const win = live.every((h) => 2 * h.filter((id) => full.get(id) === true).length > h.length);
    if (win) anyWin = true;
    else anyLoss = true;
  }
  if (anyWin && !anyLoss) return 'won';
  if (anyLoss && !anyWin) return 'lost';
  return 'pending';
}

describe('quorum property: JointConfig agrees with a brute-force reference (seeded)', () => {
  test.each([1, 2, 3, 4, 5])('seed %i: 400 random configurations', (seed) => {
    const rand = seededRandom(seed);
    for (let i = 0; i < 400; i++) {
      const incoming = subset(rand, 7);
      const outgoing = rand() < 0.4 ? [] : subset(rand, 7);
      const acks = new Map<string, number>();
      const votes = new Map<string, boolean>();
      for (const id of pool) {
        if (rand() < 0.8) acks.set(id, Math.floor(rand() * 21));
        const r = rand();
        if (r < 0.4) votes.set(id, true);
        else if (r < 0.7) votes.set(id, false);
      }
      const joint = new JointConfig(incoming, outgoing);
      const where = `seed ${seed} #${i} ${joint.describe()}`;
      expect(joint.committedIndex((id) => acks.get(id)), where).toBe(referenceCommitted([incoming, outgoing], acks));
      expect(joint.voteResult(votes), where).toBe(referenceVote([incoming, outgoing], votes));
      if (outgoing.length === 0 && incoming.length > 0) {
        // not joint: the same answers as the existing single-majority helpers
        const matches = incoming.map((id) => acks.get(id) ?? 0);
        expect(joint.committedIndex((id) => acks.get(id)), where).toBe(plainCommitted(matches));
        expect(joint.voteResult(votes), where).toBe(plainVote(incoming, votes));
      }
    }
  });
});

function randomChange(rand: () => number, cfg: MembershipConfig): ConfChange {
  if (isJoint(cfg) && rand() < 0.6) return { changes: [] };
  const n = Math.floor(rand() * 4);
  const changes: MemberChange[] = [];
  for (let i = 0; i < n; i++) {
    changes.push({ type: pick(rand, ['addVoter', 'addLearner', 'removeNode'] as const), node: pick(rand, pool) });
  }
  return { changes, transition: pick(rand, ['auto', 'auto', 'joint-explicit', 'joint-implicit'] as const) };
}

function voterDiff(a: readonly string[], b: readonly string[]): number {
  return a.filter((x) => !b.includes(x)).length + b.filter((x) => !a.includes(x)).length;
}

describe('changer property: any sequence of accepted changes keeps every invariant (seeded)', () => {
  test.each([11, 12, 13, 14, 15])('seed %i: 1500 random changes', (seed) => {
    const rand = seededRandom(seed);
    let cfg = bootstrapConfig(pool.slice(0, 1 + Math.floor(rand() * 5)));
    const seen = { simple: 0, enter: 0, leave: 0, refused: 0 };
    for (let i = 0; i < 1500; i++) {
      const cc = randomChange(rand, cfg);
      const before = show(cfg);
      let next: MembershipConfig;
      try {
        next = applyConfChange(cfg, cc);
      } catch (err) {
        // a refusal is always a coded bad-argument error, never an invariant break
        expect(isRaftError(err, ErrorCode.InvalidArgument), `${before} + ${JSON.stringify(cc)}: ${err}`).toBe(true);
        expect(show(cfg)).toBe(before);
        seen.refused++;
        continue;
      }
      const where = `seed ${seed} #${i}: ${before} + ${JSON.stringify(cc)} -> ${show(next)}`;
      expect(() => validate(next), where).not.toThrow();
      expect(next.voters.length, where).toBeGreaterThan(0);
      if (isJoint(cfg)) {
        // the only way out of a joint configuration is leaving it (thesis §4.3)
        expect(isJoint(next), where).toBe(false);
        expect(next.voters, where).toEqual(cfg.voters);
        seen.leave++;
      } else if (isJoint(next)) {
        expect(next.votersOutgoing, where).toEqual([...cfg.voters].sort());
        seen.enter++;
      } else {
        // a one-step change moves at most one voter (thesis §4.2)
        expect(voterDiff(cfg.voters, next.voters), where).toBeLessThanOrEqual(1);
        seen.simple++;
      }
      cfg = next;
    }
    // the walk exercised every path, so the assertions above were not vacuous
    expect(seen.simple).toBeGreaterThan(50);
    expect(seen.enter).toBeGreaterThan(50);
    expect(seen.leave).toBeGreaterThan(50);
    expect(seen.refused).toBeGreaterThan(50);
  });
});
