// RaftNode.waitForLeader and AbortSignal support of propose/readIndex, on the virtual clock.
import { afterEach, describe, expect, test } from 'vitest';
import { RaftNode } from '../src/runtime/raftNode.js';
import { isRaftError } from '../src/errors.js';
import { bytes } from './helpers/cluster.js';
import { FakeNetwork, FakeStorage, LogMachine, ManualClock } from './helpers/fakes.js';

const ids = ['a', 'b', 'c'];

class Cluster {
  readonly clock = new ManualClock();
  readonly net = new FakeNetwork();
  readonly nodes = new Map<string, RaftNode<number>>();

  async boot(members = ids, voters = ids, start = true): Promise<void> {
    for (const id of members) {
      let seed = ids.indexOf(id) + 1;
      const node = await RaftNode.create<number>({
        id,
        voters,
        storage: new FakeStorage(),
        transport: this.net.transport(id),
        stateMachine: new LogMachine(),
        clock: this.clock,
        tickMs: 10,
        random: () => ((seed = (seed * 48271) % 2147483647) / 2147483647),
      });
      if (start) await node.start();
      this.nodes.set(id, node);
    }
  }

  node(id: string): RaftNode<number> {
    return this.nodes.get(id)!;
  }

  leader(): RaftNode<number> | undefined {
    return [...this.nodes.values()].find((n) => n.status().role === 'leader');
  }

  /** Elects a leader, then cuts it off from both followers. */
  async isolatedLeader(): Promise<RaftNode<number>> {
    await this.clock.until(() => this.leader() !== undefined && this.leader()!.status().commitIndex >= 1);
    const leader = this.leader()!;
    for (const id of ids) if (id !== leader.id) this.net.down.add(id);
    return leader;
  }

  async stopAll(): Promise<void> {
    for (const n of this.nodes.values()) await n.stop();
  }
}

/** Records how `p` settles without letting an unobserved rejection escape. */
function outcome<T>(p: Promise<T>): { value?: T; error?: unknown; settled: boolean } {
  const o: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  p.then(
    (v) => Object.assign(o, { value: v, settled: true }),
    (e) => Object.assign(o, { error: e, settled: true }),
  );
  return o;
}

let c: Cluster;
afterEach(async () => {
  await c?.stopAll();
});

describe('waitForLeader', () => {
  test('resolves with the leader id once an election finishes, on every node; at once once known', async () => {
    c = new Cluster();
    await c.boot();
    const waits = ids.map((id) => outcome(c.node(id).waitForLeader({ timeoutMs: 10_000 })));
    expect(waits.some((w) => w.settled)).toBe(false);
    await c.clock.until(() => waits.every((w) => w.settled));
    const leader = c.leader()!.id;
    expect(waits.map((w) => w.value)).toEqual([leader, leader, leader]);
    // Known now: resolves without any time passing.
    const again = outcome(c.node('a').waitForLeader({ timeoutMs: 1 }));
    await c.clock.advance(0);
    expect(again.value).toBe(leader);
    // And then a proposal on the leader succeeds.
    await expect(c.node(leader).propose(bytes('x'))).resolves.toBe(1);
  });

  test('rejects with RAFT_TIMEOUT when no leader appears in time (a lone voter of three)', async () => {
    c = new Cluster();
    await c.boot(['a']);
    const w = outcome(c.node('a').waitForLeader({ timeoutMs: 2000 }));
    await c.clock.advance(1999);
    expect(w.settled).toBe(false);
    await c.clock.advance(1);
    expect(isRaftError(w.error, 'RAFT_TIMEOUT')).toBe(true);
  });

  test('rejects with the signal reason on abort, and with RAFT_STOPPED when the node stops', async () => {
    c = new Cluster();
    await c.boot(['a']);
    const ac = new AbortController();
    const aborted = outcome(c.node('a').waitForLeader({ signal: ac.signal }));
    const stopped = outcome(c.node('a').waitForLeader());
    await c.clock.advance(100);
    const reason = new Error('caller gave up');
    ac.abort(reason);
    await c.clock.advance(0);
    expect(aborted.error).toBe(reason);
    await c.node('a').stop();
    await c.clock.advance(0);
    expect(isRaftError(stopped.error, 'RAFT_STOPPED')).toBe(true);
    await expect(c.node('a').waitForLeader()).rejects.toMatchObject({ code: 'RAFT_STOPPED' });
  });
});

describe('AbortSignal', () => {
  test('an aborted propose rejects with the reason; the appended entry still applies once a quorum is back', async () => {
    c = new Cluster();
    await c.boot();
    const leader = await c.isolatedLeader();
    const ac = new AbortController();
    const p = outcome(leader.propose(bytes('x'), { signal: ac.signal, timeoutMs: 60_000 }));
    await c.clock.advance(50);
    expect(p.settled).toBe(false);
    ac.abort(new Error('client went away'));
    await c.clock.advance(0);
    expect((p.error as Error).message).toBe('client went away');
    c.net.down.clear();
    await c.clock.until(() => leader.status().appliedIndex === leader.status().lastIndex && leader.status().lastIndex >= 2);
    expect(leader.inspect().entries(2, 3)[0]!.data).toEqual(bytes('x'));
  });

  test('an already-aborted signal rejects propose and readIndex at once, appending nothing', async () => {
    c = new Cluster();
    await c.boot();
    await c.clock.until(() => c.leader() !== undefined && c.leader()!.status().commitIndex >= 1);
    const leader = c.leader()!;
    const last = leader.status().lastIndex;
    const signal = AbortSignal.abort(new Error('too late'));
    await expect(leader.propose(bytes('x'), { signal })).rejects.toThrow('too late');
    await expect(leader.readIndex({ signal })).rejects.toThrow('too late');
    await c.clock.advance(100);
    expect(leader.status().lastIndex).toBe(last);
  });

  test('an aborted readIndex rejects with the reason while its confirmation is outstanding', async () => {
    c = new Cluster();
    await c.boot();
    const leader = await c.isolatedLeader();
    const ac = new AbortController();
    const r = outcome(leader.readIndex({ signal: ac.signal, timeoutMs: 60_000 }));
    await c.clock.advance(50);
    expect(r.settled).toBe(false);
    const reason = new Error('request cancelled');
    ac.abort(reason);
    await c.clock.advance(0);
    expect(r.error).toBe(reason);
  });

  test('a signal that never fires changes nothing: the read and the proposal resolve', async () => {
    c = new Cluster();
    await c.boot();
    await c.clock.until(() => c.leader() !== undefined && c.leader()!.status().commitIndex >= 1);
    const { signal } = new AbortController();
    const leader = c.leader()!;
    await expect(leader.propose(bytes('x'), { signal })).resolves.toBe(1);
    await expect(leader.readIndex({ signal })).resolves.toBeGreaterThanOrEqual(2);
  });
});

describe('membership changes wait out a refusal that passes by itself', () => {
  test('right after waitForLeader, before the leader has committed an entry of its term, addLearner waits for that and succeeds', async () => {
    c = new Cluster();
    await c.boot();
    const found = outcome(c.node('a').waitForLeader());
    await c.clock.until(() => found.settled);
    const leader = c.node(found.value as string);
    expect(leader.status().role).toBe('leader');
    const added = outcome(leader.addLearner('d', 'mem://d', { timeoutMs: 5_000 }));
    await c.clock.until(() => added.settled);
    expect(added.error).toBeUndefined();
    expect(leader.membership().config.learners).toEqual(['d']);
  });

  test('a second change while the first is uncommitted waits for it, then commits too', async () => {
    c = new Cluster();
    await c.boot();
    const leader = await c.isolatedLeader(); // committed in its term, then cut off: the next change cannot commit
    const first = outcome(leader.addLearner('d', 'mem://d', { timeoutMs: 60_000 }));
    await c.clock.advance(0);
    const second = outcome(leader.addLearner('e', 'mem://e', { timeoutMs: 60_000 }));
    await c.clock.advance(30);
    expect(first.settled).toBe(false);
    expect(second.settled).toBe(false); // it used to fail at once with RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS
    c.net.down.clear();
    await c.clock.until(() => first.settled && second.settled);
    expect(first.error).toBeUndefined();
    expect(second.error).toBeUndefined();
    expect([...leader.membership().config.learners].sort()).toEqual(['d', 'e']);
  });

  test('a refusal that does not pass by itself is not waited on: a follower answers RAFT_NOT_LEADER at once', async () => {
    c = new Cluster();
    await c.boot();
    await c.clock.until(() => c.leader() !== undefined && c.leader()!.status().commitIndex >= 1);
    const follower = [...c.nodes.values()].find((n) => n.status().role === 'follower')!;
    const added = outcome(follower.addLearner('d', 'mem://d'));
    await c.clock.advance(0);
    expect(isRaftError(added.error, 'RAFT_NOT_LEADER')).toBe(true);
  });
});
