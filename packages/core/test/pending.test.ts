import { describe, expect, test } from 'vitest';
import { ErrorCode, isRaftError } from '../src/errors.js';
import { PendingProposals, PendingReads } from '../src/runtime/pending.js';
import { ManualClock } from './helpers/fakes.js';

const outcome = (p: Promise<unknown>): Promise<unknown> => p.then((v) => ({ value: v }), (e: unknown) => e);

describe('what a pending proposal is told', () => {
  test('another leader took its index: RAFT_PROPOSAL_DROPPED (it did not apply)', async () => {
    const p = new PendingProposals<string>(new ManualClock());
    const o = outcome(p.add(5, 1, 1000));
    p.applied(5, 2, 'other');
    expect(isRaftError(await o, ErrorCode.ProposalDropped)).toBe(true);
  });

  test('a snapshot replaced the log at its index: RAFT_OUTCOME_UNKNOWN (it may have applied)', async () => {
    const p = new PendingProposals<string>(new ManualClock());
    const covered = outcome(p.add(5, 1, 1000));
    const later = p.add(9, 1, 1000);
    p.droppedThrough(7);
    expect(isRaftError(await covered, ErrorCode.OutcomeUnknown)).toBe(true);
    // Proposals beyond the snapshot still wait for their own entry.
    p.applied(9, 1, 'mine');
    expect(await later).toBe('mine');
  });
});

describe('a proposal whose index this node reuses', () => {
  test('a leader that lost its tail and leads again at the same index fails the old waiter (RAFT_PROPOSAL_DROPPED), never orphans it', async () => {
    const clock = new ManualClock();
    const p = new PendingProposals<string>(clock);
    const old = outcome(p.add(31, 3, 400));
    const again = p.add(31, 5, 400);
    expect(isRaftError(await old, ErrorCode.ProposalDropped)).toBe(true);
    // Stopping later still reaches the new one (it was not overwritten silently).
    p.rejectAll(new Error('stopped'));
    await expect(again).rejects.toThrow('stopped');
  });

});

/** A ManualClock that counts the timers set on it. */
class CountingClock extends ManualClock {
  set = 0;
  override setTimeout(fn: () => void, ms: number): unknown {
    this.set++;
    return super.setTimeout(fn, ms);
  }
}

describe('proposal deadlines', () => {
  test('each proposal times out at its own deadline, exactly, whatever the others do', async () => {
    const clock = new CountingClock();
    const p = new PendingProposals<string>(clock);
    const a = outcome(p.add(1, 1, 1000));
    await clock.advance(300);
    const b = outcome(p.add(2, 1, 1000));
    const c = outcome(p.add(3, 1, 200)); // a shorter deadline, added later: due first
    await clock.advance(199);
    expect(p.size).toBe(3);
    await clock.advance(1);
    expect(isRaftError(await c, ErrorCode.Timeout)).toBe(true);
    expect(p.size).toBe(2);
    p.applied(1, 1, 'a'); // the earliest remaining deadline goes; the timer may fire for nothing
    expect(await a).toEqual({ value: 'a' });
    await clock.advance(799);
    expect(p.size).toBe(1);
    await clock.advance(1);
    const timedOut = await b;
    expect(isRaftError(timedOut, ErrorCode.Timeout)).toBe(true);
    expect((timedOut as Error).message).toContain('not applied within 1000 ms');
    expect(p.size).toBe(0);
  });

  test('proposals share one timer instead of one each, and none is left once nothing waits', async () => {
    const clock = new CountingClock();
    const p = new PendingProposals<string>(clock);
    const all = Array.from({ length: 100 }, (_, i) => p.add(i + 1, 1, 5000));
    expect(clock.set).toBe(1);
    for (let i = 0; i < 100; i++) p.applied(i + 1, 1, `r${i}`);
    expect(await Promise.all(all)).toHaveLength(100);
    // Nothing waits: the timer was cleared, so advancing past the deadline fires nothing.
    const before = clock.set;
    await clock.advance(10_000);
    expect(clock.set).toBe(before);
  });

  test('an aborted proposal is forgotten at once and the others still time out', async () => {
    const clock = new ManualClock();
    const p = new PendingProposals<string>(clock);
    const ac = new AbortController();
    const aborted = outcome(p.add(1, 1, 1000, ac.signal));
    const other = outcome(p.add(2, 1, 1000));
    ac.abort(new Error('caller gave up'));
    expect(((await aborted) as Error).message).toBe('caller gave up');
    expect(p.size).toBe(1);
    await clock.advance(1000);
    expect(isRaftError(await other, ErrorCode.Timeout)).toBe(true);
  });
});

describe('read deadlines', () => {
  test('a read times out at its deadline whether it waits for its read index or for the apply', async () => {
    const clock = new CountingClock();
    const r = new PendingReads(clock);
    const unconfirmed = outcome(r.add('a', 500));
    const unapplied = outcome(r.add('b', 800));
    const served = r.add('c', 800);
    r.confirmed('b', 7, 5, () => new Error('unused')); // confirmed at 7, applied is only 5
    r.confirmed('c', 5, 5, () => new Error('unused'));
    expect(await served).toBe(5);
    await clock.advance(499);
    await clock.advance(1);
    const a = await unconfirmed;
    expect(isRaftError(a, ErrorCode.Timeout)).toBe(true);
    expect((a as Error).message).toBe('read a not confirmed within 500 ms');
    await clock.advance(299);
    r.appliedTo(6); // not yet 7
    await clock.advance(1);
    expect(isRaftError(await unapplied, ErrorCode.Timeout)).toBe(true);
    expect(clock.set).toBeLessThanOrEqual(3);
  });

  test('100 reads share one timer; a read that applies in time resolves and leaves none behind', async () => {
    const clock = new CountingClock();
    const r = new PendingReads(clock);
    const reads = Array.from({ length: 100 }, (_, i) => r.add(`r${i}`, 5000));
    expect(clock.set).toBe(1);
    for (let i = 0; i < 100; i++) r.confirmed(`r${i}`, 3, 2, () => new Error('unused'));
    r.appliedTo(3);
    expect(await Promise.all(reads)).toEqual(Array(100).fill(3));
    const before = clock.set;
    await clock.advance(10_000);
    expect(clock.set).toBe(before);
  });

  test('an aborted read is forgotten, also while it waits for the apply; a failed confirmation rejects at once', async () => {
    const clock = new ManualClock();
    const r = new PendingReads(clock);
    const ac = new AbortController();
    const aborted = outcome(r.add('x', 1000, ac.signal));
    const refused = outcome(r.add('y', 1000));
    r.confirmed('x', 9, 1, () => new Error('unused'));
    r.confirmed('y', 0, 1, () => new Error('not leader'));
    expect(((await refused) as Error).message).toBe('not leader');
    ac.abort(new Error('gave up'));
    expect(((await aborted) as Error).message).toBe('gave up');
    r.appliedTo(9); // nothing left to resolve
    await clock.advance(2000);
  });
});
