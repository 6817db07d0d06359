import { describe, expect, test } from 'vitest';
import { JointConfig } from '../src/consensus/membership/joint.js';
import { MajorityConfig, type VoteResult } from '../src/consensus/membership/majority.js';

/** Voters are named 1..n; `acks` lists their acked index in order, undefined = no ack yet. */
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i + 1));
const ackFn =
  (acks: Record<string, number | undefined>) =>
  (id: string): number | undefined =>
    acks[id];
const fromList = (list: (number | undefined)[]): Record<string, number | undefined> =>
  Object.fromEntries(list.map((v, i) => [String(i + 1), v]));

describe('MajorityConfig.committedIndex (Raft §5.3: the quorum-th highest match)', () => {
  const cases: [acks: (number | undefined)[], expected: number][] = [
    [[], Number.POSITIVE_INFINITY], // empty: vacuously committed, so a joint min ignores it
    [[5], 5],
    [[undefined], 0],
    [[5, 3], 3],
    [[5, undefined], 0],
    [[7, 5, 3], 5],
    [[7, undefined, 3], 3],
    [[7, undefined, undefined], 0],
    [[9, 9, 1, 1], 1],
    [[9, 9, 9, 1], 9],
    [[4, undefined, 8, 6], 4],
    [[5, 4, 3, 2, 1], 3],
    [[5, undefined, undefined, 2, 1], 1],
    [[10, 10, 10, undefined, undefined], 10],
    [[6, 5, 4, 3, 2, 1], 3],
    [[6, 6, 6, undefined, undefined, undefined], 0],
    [[7, 6, 5, 4, 3, 2, 1], 4],
    [[7, 7, 7, 7, undefined, undefined, undefined], 7],
    [[7, 7, 7, undefined, undefined, undefined, undefined], 0],
  ];
  test.each(cases)('acks %j -> %d', (acks, expected) => {
    const m = new MajorityConfig(ids(acks.length));
    expect(m.committedIndex(ackFn(fromList(acks)))).toBe(expected);
  });

  test('acks from non-members are ignored', () => {
    const m = new MajorityConfig(['1', '2', '3']);
    expect(m.committedIndex(ackFn({ 1: 9, 4: 9, 5: 9 }))).toBe(0);
  });
});

describe('MajorityConfig.voteResult (Raft §5.2)', () => {
  const y = true;
  const n = false;
  const _ = undefined;
  const cases: [votes: (boolean | undefined)[], expected: VoteResult][] = [
    [[], 'won'], // vacuous, see JointConfig for the empty-config rule
    [[_], 'pending'],
    [[y], 'won'],
    [[n], 'lost'],
    [[y, _], 'pending'],
    [[y, n], 'lost'], // a tie is not a majority
    [[y, y], 'won'],
    [[y, _, _], 'pending'],
    [[y, n, _], 'pending'],
    [[y, y, _], 'won'],
    [[n, n, _], 'lost'],
    [[y, y, n, n], 'lost'], // tie in an even cluster
    [[y, y, _, _], 'pending'],
    [[y, y, y, n], 'won'],
    [[y, y, n, _, _], 'pending'],
    [[y, y, n, n, n], 'lost'],
    [[y, y, y, n, n], 'won'],
    [[y, y, y, n, n, n], 'lost'],
    [[y, y, y, _, n, n], 'pending'],
    [[y, y, y, y, n, n, n], 'won'],
    [[y, y, y, _, n, n, n], 'pending'],
    [[y, y, n, n, n, n, _], 'lost'],
  ];
  test.each(cases)('votes %j -> %s', (votes, expected) => {
    const m = new MajorityConfig(ids(votes.length));
    const map = new Map<string, boolean>();
    votes.forEach((v, i) => v !== undefined && map.set(String(i + 1), v));
    expect(m.voteResult(map)).toBe(expected);
  });

  test('votes of non-members do not count', () => {
    const m = new MajorityConfig(['1', '2', '3']);
    expect(m.voteResult(new Map([['1', true], ['4', true], ['5', true]]))).toBe('pending');
  });
});

describe('JointConfig (thesis §4.3: both majorities)', () => {
  const committed: [incoming: string[], outgoing: string[], acks: Record<string, number>, expected: number][] = [
    [[], [], {}, 0], // nothing is committed in an empty configuration
    [['1', '2', '3'], [], { 1: 5, 2: 4, 3: 3 }, 4], // not joint: plain majority
    [[], ['1', '2', '3'], { 1: 5, 2: 4, 3: 3 }, 4],
    [['1', '2', '3'], ['1', '2', '3'], { 1: 5, 2: 4, 3: 3 }, 4],
    [['1', '2', '4'], ['1', '2', '3'], { 1: 9, 2: 2, 3: 8, 4: 1 }, 2], // min(new 2, old 8)
    [['1', '2', '4'], ['1', '2', '3'], { 1: 9, 2: 9, 3: 1, 4: 1 }, 9],
    [['4', '5', '6'], ['1', '2', '3'], { 1: 7, 2: 7, 3: 7, 4: 1, 5: 2, 6: 3 }, 2], // disjoint: new lags
    [['4', '5', '6'], ['1', '2', '3'], { 1: 1, 2: 1, 3: 7, 4: 7, 5: 7, 6: 7 }, 1], // disjoint: old lags
    [['1'], ['1', '2', '3'], { 1: 5 }, 0], // the old majority never acked
    [['1'], ['1', '2', '3'], { 1: 5, 3: 5 }, 5],
    [['1', '2', '3', '4', '5'], ['1', '2', '3'], { 1: 6, 2: 6, 4: 6 }, 6],
    // a majority of the new voters alone commits nothing: the old majority has not acked
    [['1', '2', '3', '4', '5'], ['1', '2', '3'], { 4: 6, 5: 6, 1: 6 }, 0],
    [['1', '2', '3', '4', '5'], ['1', '2', '3'], { 4: 6, 5: 6, 3: 6, 2: 1 }, 1],
    [['1', '2', '3', '4', '5'], ['1', '2', '3'], { 4: 6, 5: 6, 3: 6, 2: 6 }, 6],
  ];
  test.each(committed)('committedIndex %j&&%j acks %j -> %d', (incoming, outgoing, acks, expected) => {
    expect(new JointConfig(incoming, outgoing).committedIndex(ackFn(acks))).toBe(expected);
  });

  const votes: [incoming: string[], outgoing: string[], votes: [string, boolean][], expected: VoteResult][] = [
    [[], [], [], 'lost'], // nobody can lead an empty configuration
    [['1', '2', '3'], [], [['1', true], ['2', true]], 'won'],
    [['1', '2', '4'], ['1', '2', '3'], [['1', true], ['2', true]], 'won'], // overlap wins both
    [['1', '4', '5'], ['1', '2', '3'], [['1', true], ['2', true], ['3', true]], 'pending'], // old only
    [['1', '4', '5'], ['1', '2', '3'], [['1', true], ['4', true], ['5', true]], 'pending'], // new only
    [['1', '4', '5'], ['1', '2', '3'], [['1', true], ['2', true], ['4', true]], 'won'],
    [['1', '4', '5'], ['1', '2', '3'], [['1', true], ['2', true], ['4', false], ['5', false]], 'lost'],
    [['1', '4', '5'], ['1', '2', '3'], [['2', false], ['3', false], ['4', true], ['5', true]], 'lost'],
    [['4', '5', '6'], ['1', '2', '3'], [['1', true], ['2', true], ['4', true], ['5', true]], 'won'],
    [['4', '5', '6'], ['1', '2', '3'], [['1', true], ['2', true], ['4', true], ['5', false]], 'pending'],
    [['4', '5', '6', '7'], ['1', '2'], [['1', true], ['2', false], ['4', true], ['5', true], ['6', true]], 'lost'],
  ];
  test.each(votes)('voteResult %j&&%j votes %j -> %s', (incoming, outgoing, v, expected) => {
    expect(new JointConfig(incoming, outgoing).voteResult(new Map(v))).toBe(expected);
  });

  test('describe and isJoint', () => {
    expect(new JointConfig(['3', '1', '2']).describe()).toBe('(1 2 3)');
    expect(new JointConfig(['3', '1', '2']).isJoint()).toBe(false);
    const j = new JointConfig(['1', '2', '4'], ['3', '2', '1']);
    expect(j.describe()).toBe('(1 2 4)&&(1 2 3)');
    expect(j.isJoint()).toBe(true);
    expect([...j.ids()].sort()).toEqual(['1', '2', '3', '4']);
  });
});

describe('isQuorum agrees with voteResult', () => {
  test('for every subset of acks, over plain and joint configurations (empty halves included)', () => {
    const all = ['a', 'b', 'c', 'd', 'e'];
    const configs: [string[], string[]][] = [[['a'], []], [['a', 'b', 'c'], []], [['a', 'b', 'c', 'd'], []], [['a', 'b', 'd'], ['a', 'b', 'c']], [['c', 'd', 'e'], ['a', 'b']], [[], []]];
    for (const [inc, out] of configs) {
      const q = new JointConfig(inc, out);
      for (let mask = 0; mask < 1 << all.length; mask++) {
        const acks = new Set(all.filter((_, i) => mask & (1 << i)));
        const votes = new Map(all.map((id) => [id, acks.has(id)]));
        expect(q.isQuorum(acks), `${q.describe()} ${[...acks].join('')}`).toBe(q.voteResult(votes) === 'won');
      }
    }
  });
});
