/**
 * The page's merging logic (ui/cluster.js, plain JavaScript run by the browser) on its own:
 * who it says leads, which membership it shows, the leader timeline and the membership
 * change summaries, from member answers made up here. The browser test covers the rest.
 */
import { describe, expect, test } from 'vitest';

interface Rec {
  id: string;
  body: any;
  offset?: number;
  lastOk?: number | null;
  failingSince: number | null;
}
interface ClusterModule {
  findLeader(records: Rec[]): { id: string | null; term: number; confirmed: boolean };
  currentMembership(records: Rec[], leaderId: string | null): { index: number; members: Array<{ id: string }> } | null;
  leaderSegments(records: Rec[], now: number): Array<{ from: number; to: number; term: number; leader: string | null }>;
  roleSegments(record: Rec, now: number): Array<{ from: number; to: number; role: string }>;
  membershipChanges(records: Rec[]): Array<{ index: number; committed: boolean; at: number; summary: string }>;
}

// A path in a variable: the compile does not look for types of the browser's module.
const modulePath = '../ui/cluster.js';
const ui = (await import(modulePath)) as ClusterModule;

const m = (index: number, committed: boolean, voters: string[], learners: string[] = [], votersOutgoing: string[] = [], at = index) => ({ at, index, committed, voters, votersOutgoing, learners });

function rec(id: string, over: Partial<{ role: string; term: number; leader: string | null; states: unknown[]; memberships: unknown[]; membership: unknown; members: unknown[] }> = {}, reach = true): Rec {
  return {
    id,
    failingSince: reach ? null : 5000,
    lastOk: 4000,
    offset: 0,
    body: {
      id,
      role: over.role ?? 'follower',
      term: over.term ?? 1,
      leader: over.leader === undefined ? 'n1' : over.leader,
      membership: over.membership ?? { index: 1, committed: true, joint: false },
      members: over.members ?? [{ id: 'n1' }, { id: 'n2' }, { id: 'n3' }],
      history: { states: over.states ?? [], memberships: over.memberships ?? [] },
    },
  };
}

describe('findLeader', () => {
  test('a reachable member that says it leads, at the highest term', () => {
    expect(ui.findLeader([rec('n1', { role: 'leader', term: 2 }), rec('n2', { term: 2 }), rec('n3', { term: 2 })])).toEqual({ id: 'n1', term: 2, confirmed: true });
  });

  test('an unreachable member that said it led does not count; a stale leader of a lower term neither', () => {
    const dead = rec('n1', { role: 'leader', term: 1 }, false);
    expect(ui.findLeader([dead, rec('n2', { term: 2, leader: null }), rec('n3', { term: 2, leader: null })])).toEqual({ id: null, term: 2, confirmed: false });
    // A deposed leader that still answers (partitioned) while the others moved on to term 3.
    expect(ui.findLeader([rec('n1', { role: 'leader', term: 2, leader: 'n1' }), rec('n2', { role: 'leader', term: 3, leader: 'n2' }), rec('n3', { term: 3, leader: 'n2' })]))
      .toEqual({ id: 'n2', term: 3, confirmed: true });
    expect(ui.findLeader([rec('n1', { role: 'leader', term: 2, leader: 'n1' }), rec('n3', { term: 3, leader: 'n2' })])).toEqual({ id: 'n2', term: 3, confirmed: false });
  });
});

describe('currentMembership', () => {
  test('the newest configuration any reachable member follows', () => {
    const old = rec('n3', { membership: { index: 1, committed: true, joint: false } });
    const fresh = rec('n2', { membership: { index: 9, committed: false, joint: false }, members: [{ id: 'n1' }, { id: 'n2' }, { id: 'n3' }, { id: 'n4' }] });
    const gone = rec('n1', { membership: { index: 12, committed: true, joint: false }, members: [{ id: 'n1' }] }, false);
    const cur = ui.currentMembership([old, fresh, gone], 'n1')!;
    expect(cur.index).toBe(9);
    expect(cur.members.map((x) => x.id)).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(ui.currentMembership([gone], null)).toBeNull();
  });
});

describe('leaderSegments', () => {
  test('one segment per term and leader, leaderless while an election runs, from every member\'s history', () => {
    const n1 = rec('n1', { states: [{ at: 0, role: 'follower', term: 0, leader: null }, { at: 100, role: 'candidate', term: 1, leader: null }, { at: 120, role: 'leader', term: 1, leader: 'n1' }] }, false);
    const n2 = rec('n2', { states: [{ at: 5, role: 'follower', term: 0, leader: null }, { at: 125, role: 'follower', term: 1, leader: 'n1' }, { at: 900, role: 'candidate', term: 2, leader: null }, { at: 950, role: 'leader', term: 2, leader: 'n2' }] });
    const n3 = rec('n3', { states: [{ at: 3, role: 'follower', term: 0, leader: null }, { at: 130, role: 'follower', term: 1, leader: 'n1' }, { at: 920, role: 'follower', term: 2, leader: null }, { at: 960, role: 'follower', term: 2, leader: 'n2' }] });
    expect(ui.leaderSegments([n1, n2, n3], 2000)).toEqual([
      { from: 0, to: 100, term: 0, leader: null },
      { from: 100, to: 120, term: 1, leader: null },
      { from: 120, to: 900, term: 1, leader: 'n1' },
      { from: 900, to: 950, term: 2, leader: null },
      { from: 950, to: 2000, term: 2, leader: 'n2' },
    ]);
  });

  test("each member's clock offset moves its events onto the page's clock", () => {
    const n1 = { ...rec('n1', { states: [{ at: 10_100, role: 'leader', term: 4, leader: 'n1' }] }), offset: 10_000 };
    expect(ui.leaderSegments([n1], 500)).toEqual([{ from: 100, to: 500, term: 4, leader: 'n1' }]);
  });

  test("an unreachable member's roles end at its last answer", () => {
    const dead = rec('n1', { states: [{ at: 0, role: 'follower', term: 0, leader: null }, { at: 100, role: 'leader', term: 1, leader: 'n1' }] }, false);
    expect(ui.roleSegments(dead, 9000)).toEqual([
      { from: 0, to: 100, role: 'follower', term: 0 },
      { from: 100, to: 4000, role: 'leader', term: 1 },
    ]);
  });
});

describe('membershipChanges', () => {
  test('merged from every member, each once at its earliest sighting, with what changed', () => {
    const a = rec('n1', { memberships: [m(0, true, ['n1', 'n2', 'n3']), m(4, false, ['n1', 'n2', 'n3'], ['n4'], [], 40)] });
    const b = rec('n2', { memberships: [m(0, true, ['n1', 'n2', 'n3']), m(4, false, ['n1', 'n2', 'n3'], ['n4'], [], 38), m(4, true, ['n1', 'n2', 'n3'], ['n4'], [], 45), m(6, true, ['n1', 'n2', 'n3', 'n4'], [], [], 60)] });
    const c = rec('n3', { memberships: [m(8, false, ['n1', 'n2', 'n4'], [], ['n1', 'n2', 'n3', 'n4'], 80), m(9, true, ['n1', 'n2', 'n4'], [], [], 90)] });
    expect(ui.membershipChanges([a, b, c]).map(({ index, committed, at, summary }) => ({ index, committed, at, summary }))).toEqual([
      { index: 0, committed: true, at: 0, summary: 'voters n1, n2, n3' },
      { index: 4, committed: false, at: 38, summary: '+n4 (learner)' },
      { index: 4, committed: true, at: 45, summary: 'committed' },
      { index: 6, committed: true, at: 60, summary: 'n4 promoted to voter' },
      { index: 8, committed: false, at: 80, summary: 'joint configuration entered' },
      { index: 9, committed: true, at: 90, summary: '−n3, joint configuration left' },
    ]);
  });
});
