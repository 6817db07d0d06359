import { isNotLeaderError } from '@raftkit/core';
import { describe, expect, test } from 'vitest';
import { isKvError, KvErrorCode } from '../src/errors.js';
import { LeaseKeeper, type LeaseKeeperOptions } from '../src/leaseKeeper.js';
import { settle, VirtualClock } from './helpers/virtualClock.js';

const NOT_FOUND = KvErrorCode.LeaseNotFound;

interface Call {
  at: number;
  ids: number[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A keeper on virtual time whose revokes are recorded and settled by the test. */
function setup(options: Partial<LeaseKeeperOptions> & { autoResolve?: boolean } = {}) {
  const clock = new VirtualClock();
  const calls: Call[] = [];
  const errors: unknown[] = [];
  const keeper = new LeaseKeeper({
    clock,
    electionTimeoutMs: 500,
    onRevokeError: (err) => errors.push(err),
    revoke: (ids) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ at: clock.now(), ids, resolve, reject });
        if (options.autoResolve) resolve();
      }),
    ...options,
  });
  return { clock, keeper, calls, errors };
}

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
};

describe('LeaseKeeper expiry on the leader', () => {
  test('a lease expires exactly ttl after its grant, not one ms before', async () => {
    const { clock, keeper, calls } = setup();
    keeper.becameLeader([]);
    keeper.granted(1, 1000);
    await clock.run(999);
    expect(calls).toHaveLength(0);
    expect(keeper.remaining(1)).toBe(1);
    await clock.run(1);
    expect(calls.map((c) => [c.at, c.ids])).toEqual([[1000, [1]]]);
  });

  test('a keep-alive resets the deadline to now + ttl and returns the ttl', async () => {
    const { clock, keeper, calls } = setup();
    keeper.becameLeader([]);
    keeper.granted(1, 1000);
    await clock.run(600);
    expect(keeper.remaining(1)).toBe(400);
    expect(keeper.keepAlive(1)).toBe(1000);
    expect(keeper.remaining(1)).toBe(1000);
    await clock.run(999); // t = 1599
    expect(calls).toHaveLength(0);
    await clock.run(1);
    expect(calls.map((c) => [c.at, c.ids])).toEqual([[1600, [1]]]);
  });

  test('at its deadline a lease is expired: keep-alive fails even before the scan ran', async () => {
    const { clock, keeper } = setup({ checkIntervalMs: 1000 });
    keeper.becameLeader([]);
    keeper.granted(1, 10);
    keeper.granted(2, 15);
    await clock.run(10); // scan at 10 revokes 1; the next may only run at 1010
    await clock.run(5);
    expect(isKvError(thrown(() => keeper.keepAlive(2)), NOT_FOUND)).toBe(true);
    expect(isKvError(thrown(() => keeper.remaining(2)), NOT_FOUND)).toBe(true);
  });

  test('leases expiring together are revoked in one batch, ascending ids, up to maxBatch', async () => {
    const { clock, keeper, calls } = setup({ maxBatch: 2 });
    keeper.becameLeader([]);
    for (const id of [9, 4, 7]) keeper.granted(id, 100);
    await clock.run(100);
    expect(calls.map((c) => c.ids)).toEqual([[4, 7], [9]]);
  });

  test('scans are at least checkIntervalMs apart; a lease is revoked late, never early', async () => {
    const { clock, keeper, calls } = setup({ checkIntervalMs: 100, autoResolve: true });
    keeper.becameLeader([]);
    keeper.granted(1, 1000);
    keeper.granted(2, 1001);
    await clock.run(2000);
    expect(calls.map((c) => [c.at, c.ids])).toEqual([
      [1000, [1]],
      [1100, [2]],
    ]);
    expect(keeper.size).toBe(0);
  });

  test('a revoke applied by the log (a client\'s) removes the deadline', async () => {
    const { clock, keeper, calls } = setup();
    keeper.becameLeader([]);
    keeper.granted(1, 100);
    keeper.revoked(1);
    await clock.run(1000);
    expect(calls).toHaveLength(0);
    expect(isKvError(thrown(() => keeper.keepAlive(1)), NOT_FOUND)).toBe(true);
  });

  test('keep-alive of an unknown lease fails KV_LEASE_NOT_FOUND', () => {
    const { keeper } = setup();
    keeper.becameLeader([{ id: 1, ttlMs: 10 }]);
    const err = thrown(() => keeper.keepAlive(2));
    expect(isKvError(err, NOT_FOUND)).toBe(true);
    expect((err as Error).message).toBe('lease 2 not found');
  });
});

describe('LeaseKeeper across leader changes', () => {
  test('a new leader gives every lease ttl + election timeout: one nearly expired on the old leader is not expired early', async () => {
    const clock = new VirtualClock();
    const calls: [string, number, number[]][] = [];
    const make = (name: string) =>
      new LeaseKeeper({ clock, electionTimeoutMs: 500, revoke: async (ids) => void calls.push([name, clock.now(), ids]) });
    const oldLeader = make('old');
    const newLeader = make('new');
    oldLeader.becameLeader([]);
    oldLeader.granted(1, 1000);
    await clock.run(990); // 10 ms left on the old leader
    oldLeader.steppedDown();
    newLeader.becameLeader([{ id: 1, ttlMs: 1000 }]);
    expect(newLeader.remaining(1)).toBe(1500);
    await clock.run(1499); // t = 2489
    expect(calls).toEqual([]);
    await clock.run(1);
    expect(calls).toEqual([['new', 2490, [1]]]);
  });

  test('a lease kept alive within its ttl is never revoked across many leader changes; once left alone it expires on time', async () => {
    const clock = new VirtualClock();
    const revokes: [number, number, number[]][] = [];
    const keepers = [0, 1, 2].map(
      (n) => new LeaseKeeper({ clock, electionTimeoutMs: 500, revoke: async (ids) => void revokes.push([n, clock.now(), ids]) }),
    );
    let leader = 0;
    keepers[0]!.becameLeader([]);
    for (const k of keepers) k.granted(1, 1000); // the grant applies everywhere; only the leader keeps it
    // Keep-alives every 900 ms to whoever leads; a leader change every 2300 ms, for a minute.
    let lastKeepAlive = 0;
    for (let t = 100; t <= 60_000; t += 100) {
      await clock.run(100);
      if (t % 2300 === 0) {
        keepers[leader]!.steppedDown();
        leader = (leader + 1) % 3;
        keepers[leader]!.becameLeader([{ id: 1, ttlMs: 1000 }]);
      }
      if (t % 900 === 0) {
        expect(keepers[leader]!.keepAlive(1)).toBe(1000);
        lastKeepAlive = t;
      }
    }
    expect(revokes).toEqual([]);
    expect(lastKeepAlive).toBe(59_400);
    // Left alone: the last keep-alive was at 59400 on the old leader; the leader changed at
    // 59800, so the new one gives the lease 59800 + ttl + electionTimeout = 61300.
    await clock.run(1299); // t = 61299
    expect(revokes).toEqual([]);
    await clock.run(1);
    expect(revokes).toEqual([[leader, 61_300, [1]]]);
  });

  test('a follower\'s keeper holds nothing and proposes nothing', async () => {
    const { clock, keeper, calls } = setup();
    keeper.granted(1, 10);
    await clock.run(1000);
    expect(calls).toHaveLength(0);
    expect(keeper.size).toBe(0);
    expect(isNotLeaderError(thrown(() => keeper.keepAlive(1)))).toBe(true);
    expect(isNotLeaderError(thrown(() => keeper.remaining(1)))).toBe(true);
  });

  test('steppedDown forgets every deadline and stops revokes', async () => {
    const { clock, keeper, calls } = setup();
    keeper.becameLeader([{ id: 1, ttlMs: 100 }]);
    keeper.granted(2, 100);
    await clock.run(50);
    keeper.steppedDown();
    expect(keeper.isLeader).toBe(false);
    expect(keeper.size).toBe(0);
    await clock.run(10_000);
    expect(calls).toHaveLength(0);
  });

  test('a revoke failing after the step-down is not retried', async () => {
    const { clock, keeper, calls, errors } = setup();
    keeper.becameLeader([]);
    keeper.granted(1, 100);
    await clock.run(100);
    expect(calls).toHaveLength(1);
    keeper.steppedDown();
    calls[0]!.reject(new Error('not leader'));
    await clock.run(10_000);
    expect(calls).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  test('becoming leader again starts over from the table it is given', async () => {
    const { clock, keeper, calls } = setup({ autoResolve: true });
    keeper.becameLeader([{ id: 1, ttlMs: 100 }]);
    await clock.run(50);
    keeper.becameLeader([{ id: 2, ttlMs: 100 }]); // t = 50: deadline 650
    await clock.run(599);
    expect(calls).toHaveLength(0);
    await clock.run(1);
    expect(calls.map((c) => [c.at, c.ids])).toEqual([[650, [2]]]);
  });
});

describe('LeaseKeeper revoke proposals', () => {
  test('no second revoke of a lease while one is in flight; keep-alive then fails', async () => {
    const { clock, keeper, calls } = setup({ checkIntervalMs: 10 });
    keeper.becameLeader([]);
    keeper.granted(1, 100);
    await clock.run(100);
    keeper.granted(2, 100); // later scans run, for lease 2
    await clock.run(1000);
    expect(calls.map((c) => c.ids)).toEqual([[1], [2]]);
    expect(isKvError(thrown(() => keeper.keepAlive(1)), NOT_FOUND)).toBe(true);
  });

  test('a failed revoke is proposed again after checkIntervalMs, until it succeeds', async () => {
    const { clock, keeper, calls, errors } = setup({ checkIntervalMs: 50 });
    keeper.becameLeader([]);
    keeper.granted(1, 100);
    keeper.granted(2, 100);
    await clock.run(100);
    calls[0]!.reject(new Error('proposal dropped'));
    await settle();
    expect(errors).toHaveLength(1);
    await clock.run(49);
    expect(calls).toHaveLength(1);
    await clock.run(1);
    expect(calls.map((c) => [c.at, c.ids])).toEqual([
      [100, [1, 2]],
      [150, [1, 2]],
    ]);
    calls[1]!.resolve();
    await settle();
    expect(keeper.size).toBe(0);
    await clock.run(10_000);
    expect(calls).toHaveLength(2);
  });

  test('a revoke callback that throws synchronously is retried like a rejection', async () => {
    let n = 0;
    const clock = new VirtualClock();
    const at: number[] = [];
    const keeper = new LeaseKeeper({
      clock,
      electionTimeoutMs: 0,
      checkIntervalMs: 20,
      revoke: (ids) => {
        at.push(clock.now());
        if (n++ === 0) throw new Error(`boom ${ids.join()}`);
        return Promise.resolve();
      },
    });
    keeper.becameLeader([{ id: 3, ttlMs: 5 }]);
    await clock.run(1000);
    expect(at).toEqual([5, 25]);
    expect(keeper.size).toBe(0);
  });

  test('a lease re-granted under the same id after its revoke applied keeps its new deadline', async () => {
    const { clock, keeper, calls } = setup();
    keeper.becameLeader([]);
    keeper.granted(1, 100);
    await clock.run(100);
    // The revoke applies (the state machine tells the keeper), then a new grant of id 1 applies,
    // and only then does the revoke's proposal resolve.
    keeper.revoked(1);
    keeper.granted(1, 300);
    calls[0]!.resolve();
    await settle();
    expect(keeper.remaining(1)).toBe(300);
    await clock.run(300);
    expect(calls.map((c) => [c.at, c.ids])).toEqual([
      [100, [1]],
      [400, [1]],
    ]);
  });

  test('options are checked', () => {
    const clock = new VirtualClock();
    const revoke = async () => {};
    for (const bad of [
      { electionTimeoutMs: -1 },
      { electionTimeoutMs: NaN },
      { electionTimeoutMs: 10, checkIntervalMs: 0 },
      { electionTimeoutMs: 10, maxBatch: 1.5 },
    ]) {
      const err = thrown(() => new LeaseKeeper({ clock, revoke, ...bad }));
      expect(isKvError(err, KvErrorCode.InvalidArgument), JSON.stringify(bad)).toBe(true);
    }
  });
});
