import { ErrorCode, type ConfState } from '@raftkit/core';
import { expect } from 'vitest';
import { expectState, withLog, type LogStorageCase } from '../env.js';
import { expectRaftError, expectSnapshot, makeConfState, makeEntries, makeMembershipSnapshot, makeSnapshot } from '../helpers.js';
import { installWhole, readSnapshot } from '../snapshotHelpers.js';

// A restarted node takes its configuration from its snapshot and log (thesis §4.1), so the
// membership in a snapshot's metadata must be kept exactly, like the rest of it.
const group = 'snapshot membership (thesis §4.1)';

export const membershipCases: LogStorageCase[] = [
  {
    group,
    name: 'a snapshot keeps its membership (joint, with learners and addresses) in state() and snapshot()',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await storage.save({ entries: makeEntries(1, 5, 1) });
        const snap = makeMembershipSnapshot(8, 2);
        await installWhole(storage, snap);
        const state = await expectState(storage, { firstIndex: 9, lastIndex: 8, snapshotIndex: 8 });
        expect(state.snapshot!.membership).toEqual(makeConfState());
        expectSnapshot(await readSnapshot(storage), snap);
      }),
  },
  {
    group,
    name: 'the membership survives a reopen, and a later snapshot without one replaces it',
    requires: 'reopen',
    run: (env) =>
      withLog(env, async (log) => {
        const snap = makeMembershipSnapshot(8, 2);
        await installWhole(log.storage, snap);
        let storage = await log.reopen();
        expect((await storage.state()).snapshot!.membership).toEqual(makeConfState());
        expectSnapshot(await readSnapshot(storage), snap);

        // Written before membership existed (or by a caller that has none): none comes back.
        const plain = makeSnapshot(12, 3);
        await installWhole(storage, plain);
        storage = await log.reopen();
        expect((await storage.state()).snapshot).not.toHaveProperty('membership');
        expectSnapshot(await readSnapshot(storage), plain);
      }),
  },
  {
    group,
    name: 'the storage keeps its own copy of the membership: changing the caller’s object afterwards changes nothing',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        const membership = makeConfState() as unknown as { config: { learners: string[] }; addresses: Record<string, string> };
        await installWhole(storage, makeMembershipSnapshot(8, 2, membership as unknown as ConfState));
        membership.config.learners.push('intruder');
        membership.addresses.a = 'http://changed';
        expect((await storage.state()).snapshot!.membership).toEqual(makeConfState());
        expect((await readSnapshot(storage))!.meta.membership).toEqual(makeConfState());
      }),
  },
  {
    group,
    name: 'a snapshot with an invalid membership is refused with RAFT_INVALID_ARGUMENT and changes nothing',
    run: (env) =>
      withLog(env, async ({ storage }) => {
        await installWhole(storage, makeMembershipSnapshot(5, 1));
        const good = makeConfState();
        const invalid: unknown[] = [
          { ...good, config: { ...good.config, learners: ['a'] } }, // a learner that votes
          { ...good, config: { ...good.config, votersOutgoing: [], learnersNext: [], autoLeave: true } }, // auto-leave, not joint
          { ...good, addresses: { a: 7 } },
          'voters=(a)',
        ];
        for (const membership of invalid) {
          const snap = makeMembershipSnapshot(9, 2);
          await expectRaftError(installWhole(storage, { ...snap, meta: { ...snap.meta, membership: membership as ConfState } }), ErrorCode.InvalidArgument);
        }
        await expectState(storage, { firstIndex: 6, lastIndex: 5, snapshotIndex: 5 });
        expectSnapshot(await readSnapshot(storage), makeMembershipSnapshot(5, 1));
      }),
  },
];
