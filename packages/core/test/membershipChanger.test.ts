import { describe as group, expect, test } from 'vitest';
import { ErrorCode, isRaftError } from '../src/errors.js';
import {
  applyConfChange,
  enterJoint,
  leaveJoint,
  simple,
} from '../src/consensus/membership/changer.js';
import {
  type MemberChange,
  type MembershipConfig,
  allMembers,
  bootstrapConfig,
  describe,
  emptyConfig,
  isJoint,
  validate,
} from '../src/consensus/membership/config.js';

const v = (node: string): MemberChange => ({ type: 'addVoter', node });
const l = (node: string): MemberChange => ({ type: 'addLearner', node });
const r = (node: string): MemberChange => ({ type: 'removeNode', node });
const cfg = (voters: string[], learners: string[] = []): MembershipConfig => bootstrapConfig(voters, learners);

/** Runs `fn` and returns the message of the coded RAFT_INVALID_ARGUMENT it threw. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isRaftError(err, ErrorCode.InvalidArgument)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

group('simple changes (thesis §4.2: one voter at a time)', () => {
  const ok: [start: MembershipConfig, changes: MemberChange[], expected: string][] = [
    [cfg(['1']), [v('2')], 'voters=(1 2)'],
    [cfg(['1', '2', '3']), [r('3')], 'voters=(1 2)'],
    [cfg(['1', '2']), [r('2')], 'voters=(1)'], // 2 -> 1 works
    [cfg(['1']), [l('2')], 'voters=(1) learners=(2)'],
    [cfg(['1']), [l('2'), l('3')], 'voters=(1) learners=(2 3)'], // learners are free
    [cfg(['1'], ['2']), [v('2')], 'voters=(1 2)'], // promotion
    [cfg(['1', '2']), [l('2')], 'voters=(1) learners=(2)'], // demotion goes straight to learners
    [cfg(['1'], ['2']), [r('2')], 'voters=(1)'],
    [cfg(['1', '2', '3'], ['4']), [v('4'), l('5')], 'voters=(1 2 3 4) learners=(5)'],
    [cfg(['1', '2', '3']), [r('3'), l('4')], 'voters=(1 2) learners=(4)'],
  ];
  test.each(ok)('%j + %j -> %s', (start, changes, expected) => {
    const out = simple(start, changes);
    expect(describe(out)).toBe(expected);
    expect(() => validate(out)).not.toThrow();
  });

  const refused: [start: MembershipConfig, changes: MemberChange[], message: RegExp][] = [
    [cfg(['1']), [v('2'), v('3')], /a simple change may change at most one voter; use a joint change/],
    [cfg(['1', '2', '3']), [r('2'), r('3')], /at most one voter/],
    [cfg(['1', '2', '3']), [r('3'), v('4')], /at most one voter/], // a swap is two voter changes
    [cfg(['1', '2'], ['3']), [v('3'), r('1')], /at most one voter/],
    [cfg(['1']), [r('1')], /removing the last voter/],
    [cfg(['1']), [l('1')], /removing the last voter/],
    [cfg(['1'], ['2']), [l('2')], /node 2 is already a learner/],
    [cfg(['1', '2']), [v('2')], /node 2 is already a voter/],
    [cfg(['1']), [r('9')], /node 9 is not a member/],
    [cfg(['1']), [v('2'), r('2')], /node 2 appears twice in one configuration change/],
    [cfg(['1']), [], /needs at least one member change/],
    [cfg(['1']), [v('')], /non-empty node id/],
    [cfg(['1']), [{ type: 'bogus' as 'addVoter', node: '2' }], /unknown member change type "bogus"/],
  ];
  test.each(refused)('%j + %j is refused: %s', (start, changes, message) => {
    const before = describe(start);
    expect(refusal(() => simple(start, changes))).toMatch(message);
    expect(describe(start)).toBe(before); // nothing half-applied
  });

  test('a simple change in a joint configuration: a change is already in progress', () => {
    const joint = enterJoint(cfg(['1', '2', '3']), [v('4'), v('5')], true);
    expect(refusal(() => simple(joint, [l('6')]))).toMatch(/a configuration change is already in progress \(joint/);
  });
});

group('joint changes (thesis §4.3: C_old,new)', () => {
  const ok: [start: MembershipConfig, changes: MemberChange[], joint: string, final: string][] = [
    [cfg(['1', '2', '3']), [v('4'), v('5')], 'voters=(1 2 3 4 5)&&(1 2 3)', 'voters=(1 2 3 4 5)'],
    [cfg(['1', '2', '3']), [r('3'), v('4')], 'voters=(1 2 4)&&(1 2 3)', 'voters=(1 2 4)'], // replace
    [cfg(['1', '2', '3']), [r('1'), r('2'), r('3'), v('4')], 'voters=(4)&&(1 2 3)', 'voters=(4)'],
    [cfg(['1', '2', '3']), [l('3')], 'voters=(1 2)&&(1 2 3) learners_next=(3)', 'voters=(1 2) learners=(3)'],
    [
      cfg(['1', '2', '3'], ['4']),
      [v('4'), l('1'), r('2')],
      'voters=(3 4)&&(1 2 3) learners_next=(1)',
      'voters=(3 4) learners=(1)',
    ],
    [cfg(['1'], ['2', '3']), [v('2'), v('3')], 'voters=(1 2 3)&&(1)', 'voters=(1 2 3)'],
    [cfg(['1', '2']), [l('5')], 'voters=(1 2)&&(1 2) learners=(5)', 'voters=(1 2) learners=(5)'],
  ];
  test.each(ok)('%j + %j -> %s -> %s', (start, changes, joint, final) => {
    for (const autoLeave of [true, false]) {
      const j = enterJoint(start, changes, autoLeave);
      expect(describe(j)).toBe(autoLeave ? `${joint} autoleave` : joint);
      expect(isJoint(j)).toBe(true);
      const out = leaveJoint(j);
      expect(describe(out)).toBe(final);
      expect(isJoint(out)).toBe(false);
      expect(out.autoLeave).toBe(false);
    }
  });

  const refused: [start: MembershipConfig, changes: MemberChange[], message: RegExp][] = [
    [cfg(['1', '2']), [r('1'), r('2')], /removing the last voter/],
    [cfg(['1', '2']), [l('1'), l('2')], /removing the last voter/],
    [emptyConfig, [v('1')], /cannot enter a joint configuration from one without voters/],
    [cfg(['1', '2']), [v('1')], /node 1 is already a voter/],
    [cfg(['1'], ['2']), [l('2')], /node 2 is already a learner/],
    [cfg(['1']), [r('7')], /node 7 is not a member/],
    [cfg(['1']), [v('3'), l('3')], /node 3 appears twice/],
    [cfg(['1']), [], /at least one member change/],
  ];
  test.each(refused)('%j + %j is refused: %s', (start, changes, message) => {
    expect(refusal(() => enterJoint(start, changes, true))).toMatch(message);
  });

  test('entering joint twice: a configuration change is already in progress', () => {
    const j = enterJoint(cfg(['1', '2', '3']), [v('4')], false);
    expect(refusal(() => enterJoint(j, [v('5')], false))).toMatch(/already in progress \(joint/);
  });

  test('leaving a configuration that is not joint is refused', () => {
    expect(refusal(() => leaveJoint(cfg(['1', '2'])))).toMatch(/there is no joint configuration to leave/);
  });

  test('the input is never mutated', () => {
    const start = cfg(['1', '2', '3'], ['4']);
    const copy = JSON.stringify(start);
    leaveJoint(enterJoint(start, [v('4'), l('1')], true));
    simple(start, [r('4')]);
    expect(JSON.stringify(start)).toBe(copy);
  });
});

group('applyConfChange (etcd ConfChangeV2 transitions)', () => {
  const start = cfg(['1', '2', '3']);
  test.each([
    [{ changes: [v('4')] }, 'voters=(1 2 3 4)'],
    [{ changes: [l('4'), l('5')], transition: 'auto' as const }, 'voters=(1 2 3) learners=(4 5)'],
    [{ changes: [v('4'), v('5')] }, 'voters=(1 2 3 4 5)&&(1 2 3) autoleave'],
    [{ changes: [v('4')], transition: 'joint-implicit' as const }, 'voters=(1 2 3 4)&&(1 2 3) autoleave'],
    [{ changes: [v('4')], transition: 'joint-explicit' as const }, 'voters=(1 2 3 4)&&(1 2 3)'],
  ])('%j -> %s', (cc, expected) => {
    expect(describe(applyConfChange(start, cc))).toBe(expected);
  });

  test('an empty change leaves the joint configuration, and is refused when not joint', () => {
    const j = applyConfChange(start, { changes: [r('3'), v('4')] });
    expect(describe(applyConfChange(j, { changes: [] }))).toBe('voters=(1 2 4)');
    expect(refusal(() => applyConfChange(start, { changes: [] }))).toMatch(/no joint configuration to leave/);
  });

  test('an unknown transition and a change while joint are refused', () => {
    const bad = { changes: [v('4')], transition: 'sideways' as 'auto' };
    expect(refusal(() => applyConfChange(start, bad))).toMatch(/unknown configuration change transition/);
    const j = applyConfChange(start, { changes: [v('4')], transition: 'joint-explicit' });
    expect(refusal(() => applyConfChange(j, { changes: [v('5')] }))).toMatch(/already in progress/);
  });
});

group('validate (the MembershipConfig invariants)', () => {
  const base: MembershipConfig = { voters: ['1'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
  test.each([
    [{ voters: ['1', '1'] }, /node 1 appears twice in voters/],
    [{ voters: [''] }, /empty or non-string node id/],
    [{ voters: [], learners: ['2'] }, /there are no voters/],
    [{ voters: [], votersOutgoing: ['1'] }, /there are no voters/],
    [{ learners: ['1'] }, /node 1 is both a learner and a voter/],
    [{ votersOutgoing: ['2'], learners: ['2'] }, /node 2 is both a learner and a voter/],
    [{ learnersNext: ['2'] }, /learnersNext is only allowed in a joint configuration/],
    [{ autoLeave: true }, /autoLeave is only allowed in a joint configuration/],
    [{ votersOutgoing: ['1', '2'], learnersNext: ['3'] }, /learner-next 3 is not an outgoing voter/],
    [{ votersOutgoing: ['1'], learnersNext: ['1'] }, /learner-next 1 is also an incoming voter/],
    [{ votersOutgoing: ['1', '2'], learners: ['x'], learnersNext: ['2', '2'] }, /appears twice in learnersNext/],
  ] as [Partial<MembershipConfig>, RegExp][])('%j is invalid: %s', (patch, message) => {
    const bad = { ...base, ...patch };
    expect(refusal(() => validate(bad))).toMatch(message);
    // every changer entry point refuses an invalid input too
    expect(refusal(() => simple(bad, [l('z')]))).toMatch(/invalid membership configuration/);
    expect(refusal(() => leaveJoint(bad))).toMatch(/invalid membership configuration|no joint/);
  });

  test('valid configurations pass, including the empty (never bootstrapped) one', () => {
    expect(() => validate(emptyConfig)).not.toThrow();
    expect(() => validate(base)).not.toThrow();
    const joint = { ...base, voters: ['1'], votersOutgoing: ['1', '2'], learnersNext: ['2'], autoLeave: true };
    expect(() => validate(joint)).not.toThrow();
  });

  test('allMembers and describe are stable and order-independent', () => {
    const j: MembershipConfig = {
      voters: ['4', '1'],
      votersOutgoing: ['3', '1', '2'],
      learners: ['9'],
      learnersNext: ['2'],
      autoLeave: true,
    };
    expect(allMembers(j)).toEqual(['1', '2', '3', '4', '9']);
    expect(describe(j)).toBe('voters=(1 4)&&(1 2 3) learners=(9) learners_next=(2) autoleave');
    expect(describe(emptyConfig)).toBe('voters=()');
  });

  test('bootstrapConfig sorts and validates', () => {
    expect(bootstrapConfig(['3', '1']).voters).toEqual(['1', '3']);
    expect(refusal(() => bootstrapConfig(['1'], ['1']))).toMatch(/both a learner and a voter/);
  });
});
