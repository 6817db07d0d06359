// RaftNode on RocksDB: a 3-node cluster in one process, on real durable storage in temporary
// directories, stopped and reopened. The transport is an in-test loopback (adapters do not
// depend on each other); real sockets are exercised by @raftkit/transport-http and the server.
import { afterEach, describe, expect, test } from 'vitest';
import { RaftNode, isNotLeaderError, snapshotBytes, type Message, type SnapshotStream, type StateMachine, type Transport, type TransportHandler } from '@raftkit/core';
import { RocksLogStorage } from '../src/index.js';
import { makeTempDir, removeDir } from './tempDir.js';

const ids = ['n1', 'n2', 'n3'];
const dec = new TextDecoder();

class Loopback {
  readonly handlers = new Map<string, TransportHandler>();
  transport(id: string): Transport {
    return {
      id,
      start: async (h) => void this.handlers.set(id, h),
      send: (msgs: readonly Message[]) => {
        for (const m of msgs) setImmediate(() => this.handlers.get(m.to)?.onMessage(m));
      },
      close: async () => void this.handlers.delete(id),
    };
  }
}

class ListMachine implements StateMachine<number> {
  items: string[] = [];
  apply(e: { data: Uint8Array }): number {
    return this.items.push(dec.decode(e.data));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  async restore(data: SnapshotStream): Promise<void> {
    this.items = JSON.parse(dec.decode(await snapshotBytes(data))) as string[];
  }
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Member {
  node: RaftNode<number>;
  storage: RocksLogStorage;
  sm: ListMachine;
}

let dirs: string[] = [];
let running: Member[] = [];

afterEach(async () => {
  for (const m of running) {
    await m.node.stop({ transferLeadership: false });
    await m.storage.close();
  }
  running = [];
  for (const d of dirs) await removeDir(d);
  dirs = [];
});

async function boot(net: Loopback, id: string, dir: string, snapshotEvery = 10_000): Promise<Member> {
  const storage = await RocksLogStorage.open(dir);
  const sm = new ListMachine();
  const node = await RaftNode.create<number>({ id, voters: ids, storage, transport: net.transport(id), stateMachine: sm, tickMs: 10, snapshotEvery });
  await node.start();
  const m = { node, storage, sm };
  running.push(m);
  return m;
}

async function stopAll(): Promise<void> {
  for (const m of running) {
    // No handover: the reopened cluster must come back with exactly the term and vote it had.
    await m.node.stop({ transferLeadership: false });
    await m.storage.close();
  }
  running = [];
}

describe('RaftNode on RocksDB', () => {
  test('a 3-node cluster commits, stops, reopens with every committed entry and the same term and vote', async () => {
    dirs = await Promise.all(ids.map(() => makeTempDir('raftkit-node-')));
    let net = new Loopback();
    let members = await Promise.all(ids.map((id, i) => boot(net, id, dirs[i]!)));
    await until(() => members.some((m) => m.node.status().role === 'leader'), 'a leader');
    const leader = members.find((m) => m.node.status().role === 'leader')!;
    const written = Array.from({ length: 50 }, (_, i) => `entry-${i}`);
    const results = await Promise.all(written.map((w) => leader.node.propose(new TextEncoder().encode(w))));
    expect(results).toEqual(written.map((_, i) => i + 1));
    await until(() => members.every((m) => m.sm.items.length === 50), 'replication to all');
    const before = members.map((m) => m.node.status());
    await stopAll();

    net = new Loopback();
    members = await Promise.all(ids.map((id, i) => boot(net, id, dirs[i]!)));
    members.forEach((m, i) => {
      const st = m.node.status();
      expect(st.term).toBe(before[i]!.term);
      expect(st.vote).toBe(before[i]!.vote);
      expect(st.lastIndex).toBe(before[i]!.lastIndex);
    });
    // Committed entries are re-applied from the durable log after the restart.
    await until(() => members.every((m) => m.sm.items.length === 50), 're-apply after restart');
    for (const m of members) expect(m.sm.items).toEqual(written);
    const stored = await members[0]!.storage.entries(1, before[0]!.lastIndex + 1);
    expect(stored.map((e) => e.index)).toEqual(Array.from({ length: before[0]!.lastIndex }, (_, i) => i + 1));
  }, 60_000);

  test('snapshots are stored in RocksDB and a restarted node restores from one', async () => {
    dirs = await Promise.all(ids.map(() => makeTempDir('raftkit-node-')));
    let net = new Loopback();
    let members = await Promise.all(ids.map((id, i) => boot(net, id, dirs[i]!, 20)));
    // On real timers a loaded machine may elect another leader mid-loop: a proposal refused
    // with "not the leader" was never appended, so it is sent again to the current leader.
    for (let i = 0; i < 45; i++) {
      for (;;) {
        await until(() => members.some((m) => m.node.status().role === 'leader'), 'a leader');
        const leader = members.find((m) => m.node.status().role === 'leader')!;
        try {
          await leader.node.propose(new TextEncoder().encode(`v${i}`));
          break;
        } catch (err) {
          if (!isNotLeaderError(err)) throw err;
        }
      }
    }
    await until(() => members.every((m) => m.sm.items.length === 45), 'replication');
    await stopAll();
    net = new Loopback();
    members = await Promise.all(ids.map((id, i) => boot(net, id, dirs[i]!, 20)));
    for (const m of members) {
      expect(m.node.status().snapshotIndex).toBeGreaterThanOrEqual(20);
      const reader = await m.storage.openSnapshot();
      expect(reader?.meta.index).toBe(m.node.status().snapshotIndex);
      expect(JSON.parse(dec.decode(await reader!.read(0, reader!.size))).length, 'the snapshot file holds the items').toBeGreaterThan(0);
      await reader!.close();
    }
    await until(() => members.every((m) => m.sm.items.length === 45), 'restore + re-apply');
    expect(members[2]!.sm.items).toEqual(Array.from({ length: 45 }, (_, i) => `v${i}`));
  }, 60_000);
});
