import { afterEach, describe, expect, test } from 'vitest';
import type { Clock } from '../src/runtime/clock.js';
import { RaftNode } from '../src/runtime/raftNode.js';
import { ErrorCode, isRaftError } from '../src/errors.js';
import { bytes } from './helpers/cluster.js';
import { FakeNetwork, FakeStorage, LogMachine, ManualClock } from './helpers/fakes.js';

const ids = ['a', 'b', 'c'];

/**
 * One process's view of a shared virtual clock that can be paused like SIGSTOP: time goes on
 * (the monotonic clock keeps counting) but none of this process's timer callbacks run.
 */
class PausableClock implements Clock {
  paused = false;
  constructor(private readonly shared: ManualClock) {}
  now(): number {
    return this.shared.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return this.shared.setTimeout(() => !this.paused && fn(), ms);
  }
  clearTimeout(h: unknown): void {
    this.shared.clearTimeout(h);
  }
  setInterval(fn: () => void, ms: number): unknown {
    return this.shared.setInterval(() => !this.paused && fn(), ms);
  }
  clearInterval(h: unknown): void {
    this.shared.clearInterval(h);
  }
}

interface Member {
  node: RaftNode<number>;
  clock: PausableClock;
}

const clock = new ManualClock();
// A fresh network per test: a message still in flight from a stopped node must not reach the
// next test's node of the same id (it would rightly find that node's empty log lost).
let net = new FakeNetwork();
const members = new Map<string, Member>();

async function boot(): Promise<void> {
  for (const id of ids) {
    const own = new PausableClock(clock);
    let seed = ids.indexOf(id) + 7;
    const node = await RaftNode.create<number>({
      id,
      voters: ids,
      storage: new FakeStorage(),
      transport: net.transport(id),
      stateMachine: new LogMachine(),
      clock: own,
      tickMs: 10,
      random: () => ((seed = (seed * 48271) % 2147483647) / 2147483647),
    });
    await node.start();
    members.set(id, { node, clock: own });
  }
}

const leaderOf = (among: string[]): Member | undefined =>
  among.map((id) => members.get(id)!).find((m) => m.node.status().role === 'leader');

afterEach(async () => {
  for (const m of members.values()) await m.node.stop();
  members.clear();
  net = new FakeNetwork();
});

describe('RaftNode under stalls (SIGSTOP, long GC, a blocking call)', () => {
  test('thesis §6.4.1: a leader paused past its lease does not serve a lease read when it resumes', async () => {
    await boot();
    await clock.until(() => leaderOf(ids) !== undefined);
    const old = leaderOf(ids)!;
    await old.node.propose(bytes('v_old'));
    expect(await old.node.readIndex({ lease: true })).toBeGreaterThan(0); // the lease holds while healthy

    // SIGSTOP: no timer callback runs in the old leader and its links are silent.
    old.clock.paused = true;
    net.down.add(old.node.id);
    const rest = ids.filter((id) => id !== old.node.id);
    await clock.until(() => leaderOf(rest) !== undefined);
    await leaderOf(rest)!.node.propose(bytes('v_new'));

    // SIGCONT: the lease read is the first thing it handles, before any tick callback.
    old.clock.paused = false;
    const read = old.node.readIndex({ lease: true, timeoutMs: 1000 });
    const outcome = await Promise.race([read.then((i) => `served at ${i}`, (e: unknown) => e), clock.advance(2000).then(() => 'pending')]);
    expect(String(outcome)).not.toMatch(/^served/);
    expect(isRaftError(outcome) && (outcome.code === ErrorCode.NotLeader || outcome.code === ErrorCode.Timeout)).toBe(true);
    expect(old.node.status().role).not.toBe('leader');
  });

  test('ticks follow the clock, not timer callbacks: a stalled follower campaigns as soon as it runs again', async () => {
    await boot();
    await clock.until(() => leaderOf(ids) !== undefined);
    const leader = leaderOf(ids)!;
    for (const id of ids) if (id !== leader.node.id) members.get(id)!.clock.paused = true;
    net.down.add(leader.node.id);
    await clock.advance(1000);
    const f = members.get(ids.find((id) => id !== leader.node.id)!)!;
    const before = f.node.status().role;
    f.clock.paused = false;
    await clock.advance(10); // one timer callback: a whole election timeout has passed by the clock
    expect(before).toBe('follower');
    expect(f.node.status().role).not.toBe('follower');
  });

  test('a read forwarded by a follower fails fast when its leader goes away, instead of waiting for its deadline', async () => {
    await boot();
    await clock.until(() => leaderOf(ids) !== undefined);
    const leader = leaderOf(ids)!;
    const f = members.get(ids.find((id) => id !== leader.node.id)!)!;
    await clock.until(() => f.node.status().leader === leader.node.id);
    net.down.add(leader.node.id);
    const started = clock.now();
    let settled = -1;
    const read = f.node.readIndex({ timeoutMs: 5000 }).then(
      () => 'served',
      (e: unknown) => {
        settled = clock.now();
        return e;
      },
    );
    await clock.until(() => settled >= 0, 5000);
    const err = await read;
    expect(isRaftError(err, ErrorCode.NotLeader)).toBe(true);
    // Within about one election timeout (100-200 ms here), far from the 5 s deadline.
    expect(settled - started).toBeLessThan(400);
  });
});
