// Issue 11: a write in flight must not stop a node from doing anything else. With pipelined
// writes a leader whose fsync hangs keeps sending heartbeats (its replication never waits for
// its own disk), so a slow disk costs no election.
import { afterEach, describe, expect, test } from 'vitest';
import { RaftNode } from '../src/runtime/raftNode.js';
import { bytes } from './helpers/cluster.js';
import { FakeNetwork, FakeStorage, LogMachine, ManualClock, settle } from './helpers/fakes.js';

const ids = ['a', 'b', 'c'];
const TICK_MS = 10;
const ELECTION_MS = 10 * TICK_MS; // electionTicks default 10

/** A disk whose writes can be held (an fsync that takes as long as the test wants). */
class HeldDisk {
  held = false;
  private release: (() => void)[] = [];
  readonly delay = async (): Promise<void> => {
    if (this.held) await new Promise<void>((r) => this.release.push(r));
    else await settle();
  };
  unhold(): void {
    this.held = false;
    for (const r of this.release.splice(0)) r();
  }
}

const clock = new ManualClock();
let net = new FakeNetwork(); // fresh per test: no message of a stopped node reaches the next test's
const nodes = new Map<string, { node: RaftNode<number>; disk: HeldDisk; storage: FakeStorage }>();

async function boot(): Promise<void> {
  for (const id of ids) {
    const disk = new HeldDisk();
    let seed = ids.indexOf(id) + 3;
    const storage = new FakeStorage(undefined, disk.delay);
    const node = await RaftNode.create<number>({
      id,
      voters: ids,
      storage,
      transport: net.transport(id),
      stateMachine: new LogMachine(),
      clock,
      tickMs: TICK_MS,
      random: () => ((seed = (seed * 48271) % 2147483647) / 2147483647),
    });
    await node.start();
    nodes.set(id, { node, disk, storage });
  }
  await clock.until(() => leaderId() !== undefined);
}

const leaderId = (): string | undefined => ids.find((id) => nodes.get(id)!.node.status().role === 'leader');
const terms = (): number[] => ids.map((id) => nodes.get(id)!.node.status().term);

afterEach(async () => {
  for (const { node, disk } of nodes.values()) {
    disk.unhold();
    await node.stop();
  }
  nodes.clear();
  net = new FakeNetwork();
});

describe('a write in flight does not stop heartbeats (issue 11)', () => {
  test('a leader whose fsync takes five election timeouts keeps its followers: no election, and the write then commits', async () => {
    await boot();
    const leader = leaderId()!;
    const { node, disk } = nodes.get(leader)!;
    await node.propose(bytes('warm'));
    const before = terms();
    disk.held = true;
    let applied = false;
    const p = node.propose(bytes('slow')).then(() => (applied = true));
    await clock.advance(5 * ELECTION_MS);
    expect(terms()).toEqual(before);
    expect(leaderId()).toBe(leader);
    expect(ids.map((id) => nodes.get(id)!.node.status().leader)).toEqual([leader, leader, leader]);
    // Committed by the followers, but applied here only once durable here too.
    expect(applied).toBe(false);
    disk.unhold();
    await clock.until(() => applied);
    await p;
    expect(terms()).toEqual(before);
  });

  test('a follower whose fsync takes five election timeouts neither campaigns nor stalls the cluster', async () => {
    await boot();
    const leader = leaderId()!;
    const follower = ids.find((id) => id !== leader)!;
    const before = terms();
    nodes.get(follower)!.disk.held = true;
    // The other follower and the leader commit without it.
    for (let i = 0; i < 5; i++) await nodes.get(leader)!.node.propose(bytes(`w${i}`));
    await clock.advance(5 * ELECTION_MS);
    expect(terms()).toEqual(before);
    expect(nodes.get(follower)!.node.status().role).toBe('follower');
    nodes.get(follower)!.disk.unhold();
    const last = nodes.get(leader)!.node.status().commitIndex;
    await clock.until(() => nodes.get(follower)!.node.status().appliedIndex >= last);
    expect(terms()).toEqual(before);
  });
});

describe('a commit index alone costs no storage write (issue 11)', () => {
  test('sequential proposals cost one write each on every node; the commit index is written later, on a tick', async () => {
    await boot();
    const leader = nodes.get(leaderId()!)!;
    await leader.node.propose(bytes('warm'));
    await clock.advance(2 * TICK_MS);
    const before = ids.map((id) => nodes.get(id)!.storage.saves);
    for (let i = 0; i < 20; i++) await leader.node.propose(bytes(`p${i}`));
    const after = ids.map((id) => nodes.get(id)!.storage.saves);
    // One write per entry (entries and, on followers, the commit index that came with them);
    // a write per new commit index would double it.
    for (let k = 0; k < ids.length; k++) expect(after[k]! - before[k]!).toBeLessThanOrEqual(21);
    await clock.until(() => ids.every((id) => nodes.get(id)!.node.status().appliedIndex === leader.node.status().commitIndex));
    await clock.advance(2 * TICK_MS);
    // Written eventually: what a restart starts from is at most one tick old.
    for (const id of ids) expect(nodes.get(id)!.storage.durable.hardState.commit).toBe(leader.node.status().commitIndex);
  });
});
