import { describe, expect, test } from 'vitest';
import { ErrorCode, isRaftError } from '../src/errors.js';
import { PendingProposals } from '../src/runtime/pending.js';
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
