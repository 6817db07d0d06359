import { afterEach, describe, expect, test } from 'vitest';
import type { Message, SnapshotChunkRequest } from '../src/consensus/types.js';
import { crc32c } from '../src/runtime/crc32c.js';
import type { SnapshotStream } from '../src/runtime/snapshotStore.js';
import { bytes } from './helpers/cluster.js';
import { LogMachine, settle } from './helpers/fakes.js';
import { Harness, type Member } from './helpers/nodeHarness.js';

// Snapshot streaming between RaftNodes (issue 12), on a virtual clock and a loopback network:
// the trailing log, chunked transfer with loss, corruption and resume, on-demand snapshots.

let h: Harness;
afterEach(async () => {
  await h?.stopAll();
});

/** A machine whose snapshot is big enough for many small chunks. */
class PaddedMachine extends LogMachine {
  override snapshot(): Uint8Array {
    return bytes(JSON.stringify(this.items) + ' '.repeat(2000));
  }
}

const chunkOpts = { chunkBytes: 100, maxChunksInFlight: 4, chunkTimeoutMs: 200, trailingEntries: 0 };

/** a and b run; c is down while the leader writes `n` entries and snapshots; then c starts empty. */
async function lagBehind(n: number, snapshots: object, cOpts: object = {}): Promise<{ leader: Member; c: Member }> {
  h = new Harness();
  h.net.down.add('c');
  for (const id of ['a', 'b']) await h.boot(id, undefined, { snapshotEvery: 5, snapshots }, new PaddedMachine());
  await h.clock.until(() => h.leader() !== undefined, 20_000);
  const leader = h.leader()!;
  for (let i = 0; i < n; i++) await leader.node.propose(bytes(`v${i}`));
  await leader.node.snapshot();
  h.net.down.delete('c');
  const c = await h.boot('c', undefined, { snapshotEvery: 1000, snapshots: { ...snapshots, ...cOpts } }, new PaddedMachine());
  return { leader, c };
}

const chunks = (sent: Message[]): SnapshotChunkRequest[] => sent.filter((m): m is SnapshotChunkRequest => m.type === 'snapshotChunk');

describe('snapshots that stream', () => {
  test('a follower lagging by less than the trailing margin catches up from the log, without a snapshot', async () => {
    const sent: Message[] = [];
    const { leader, c } = await lagBehind(12, { trailingEntries: 100 });
    h.net.onSend = (m) => void sent.push(m);
    await h.clock.until(() => c.sm.items.length === 12, 20_000);
    expect(leader.node.status().snapshotIndex).toBeGreaterThanOrEqual(12); // it did snapshot
    expect(sent.filter((m) => m.type === 'snapshotChunk')).toHaveLength(0);
    expect(c.storage.durable.snapshot).toBeNull();
    expect(c.sm.items).toEqual(leader.sm.items);
  });

  test('a follower behind the compacted log gets the snapshot in bounded chunks and installs it', async () => {
    const sent: Message[] = [];
    const { leader, c } = await lagBehind(12, chunkOpts);
    h.net.onSend = (m) => void sent.push(m);
    await h.clock.until(() => c.sm.items.length === 12, 20_000);
    expect(c.sm.items).toEqual(leader.sm.items);
    const cs = chunks(sent);
    expect(cs.length).toBeGreaterThan(20);
    expect(Math.max(...cs.map((m) => m.data.length))).toBeLessThanOrEqual(100);
    expect(c.storage.durable.snapshot?.index).toBe(leader.node.status().snapshotIndex);
    // The follower's installed bytes are exactly the leader's.
    expect(c.storage.durable.snapshotBytes).toEqual(leader.storage.durable.snapshotBytes);
  });

  test('lost chunks are sent again; the transfer completes', async () => {
    let n = 0;
    const { leader, c } = await lagBehind(12, chunkOpts);
    h.net.alter = (m) => (m.type === 'snapshotChunk' && ++n % 3 === 0 ? null : m);
    await h.clock.until(() => c.sm.items.length === 12, 60_000);
    expect(c.sm.items).toEqual(leader.sm.items);
    expect(n).toBeGreaterThan(30); // resends happened beyond the ~22 chunks
  });

  test('a chunk corrupted in flight is refused by its CRC, sent again, and never installed', async () => {
    let flipped = 0;
    const answers: Message[] = [];
    const { leader, c } = await lagBehind(12, chunkOpts);
    h.net.onSend = (m) => void (m.type === 'snapshotChunkResponse' && answers.push(m));
    h.net.alter = (m) => {
      if (m.type !== 'snapshotChunk' || m.data.length === 0 || flipped >= 3) return m;
      flipped++;
      const data = m.data.slice();
      data[0] ^= 0xff;
      return { ...m, data };
    };
    await h.clock.until(() => c.sm.items.length === 12, 60_000);
    expect(flipped).toBe(3);
    expect(answers.filter((m) => m.type === 'snapshotChunkResponse' && m.status === 'corrupt')).toHaveLength(3);
    expect(c.sm.items).toEqual(leader.sm.items);
    expect(c.storage.durable.snapshotBytes).toEqual(leader.storage.durable.snapshotBytes);
  });

  test('a snapshot whose whole checksum fails (every chunk CRC fine) is refused, restarted from 0, never installed', async () => {
    let tampered = false;
    const answers: Message[] = [];
    const { leader, c } = await lagBehind(12, chunkOpts);
    h.net.onSend = (m) => void (m.type === 'snapshotChunkResponse' && answers.push(m));
    h.net.alter = (m) => {
      if (m.type !== 'snapshotChunk' || m.offset !== 200 || tampered) return m;
      tampered = true;
      const data = m.data.slice();
      data[5] ^= 0x01;
      return { ...m, data, crc: crc32c(data) }; // a consistent chunk of the wrong bytes
    };
    await h.clock.until(() => c.sm.items.length === 12, 60_000);
    expect(tampered).toBe(true);
    const refused = answers.filter((m) => m.type === 'snapshotChunkResponse' && m.status === 'corrupt');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ next: 0 });
    expect(c.storage.durable.snapshotBytes).toEqual(leader.storage.durable.snapshotBytes);
  });

  test('a transfer cut off two thirds in, with the follower restarted meanwhile, resumes from what it holds durably', async () => {
    let delivered = 0;
    let cut = true;
    const { leader, c } = await lagBehind(12, chunkOpts);
    const total = Math.ceil(leader.storage.durable.snapshotBytes!.length / 100);
    const half = Math.floor((total * 2) / 3); // two thirds arrive before the cut
    h.net.alter = (m) => {
      if (m.type !== 'snapshotChunk' || m.data.length === 0) return m;
      if (cut && delivered >= half) return null; // the connection is down
      delivered++;
      return m;
    };
    await h.clock.until(() => delivered >= half, 20_000);
    for (let i = 0; i < 5; i++) await settle(); // the last chunks are stored
    // The follower restarts on the same storage (its received chunks survive there).
    await c.node.stop();
    const again = await h.boot('c', c.storage, { snapshots: chunkOpts }, new PaddedMachine());
    for (let i = 0; i < 30; i++) {
      await h.clock.advance(200);
      await settle();
    }
    cut = false;
    await h.clock.until(() => again.sm.items.length === 12, 60_000);
    expect(again.sm.items).toEqual(leader.sm.items);
    // Chunks delivered twice (sent again after the cut): fewer than half of them.
    expect(delivered).toBeGreaterThanOrEqual(total);
    expect(delivered - total).toBeLessThan(total / 2);
  });

  test("a leader whose stored snapshot no longer matches its checksum gives the transfer up and says so, never installs it", async () => {
    const failures: string[] = [];
    const { leader, c } = await lagBehind(12, chunkOpts);
    leader.node.on('snapshotTransferFailed', (peer, why) => void failures.push(`${peer}: ${why}`));
    leader.storage.durable.snapshotBytes![150] ^= 0xff; // the leader's disk rots under its snapshot
    await h.clock.until(() => failures.length > 0, 60_000);
    expect(failures[0]).toMatch(/^c: .*SHA-256 wrong 3 times.*damaged/);
    expect(c.storage.durable.snapshot).toBeNull();
    expect(c.sm.items).toEqual([]);
    expect(c.node.snapshotStats().receiver.corruptSnapshots).toBeGreaterThanOrEqual(3);
  });

  test('a leader that finds its stored snapshot damaged takes a new one, and the follower then gets good bytes', async () => {
    const failures: string[] = [];
    const { leader, c } = await lagBehind(12, { ...chunkOpts, trailingEntries: 2 });
    leader.node.on('snapshotTransferFailed', (_peer, why) => void failures.push(why));
    leader.storage.durable.snapshotBytes![150] ^= 0xff;
    await h.clock.until(() => c.sm.items.length === 12, 60_000);
    expect(failures.some((f) => /damaged/.test(f))).toBe(true);
    expect(c.sm.items).toEqual(leader.sm.items);
    // The replacement is the same state at the same index, with bytes that match their checksum.
    expect(c.storage.durable.snapshot?.index).toBe(leader.storage.durable.snapshot?.index);
    expect(c.storage.durable.snapshotBytes).toEqual(leader.storage.durable.snapshotBytes);
  });

  test('RaftNode.snapshot() takes one now; the node keeps applying while a slow snapshot stream is written', async () => {
    let release: () => void = () => undefined;
    class SlowSnapshots extends LogMachine {
      override snapshot(): SnapshotStream {
        const state = bytes(JSON.stringify(this.items));
        return (async function* () {
          yield state.slice(0, 1);
          await new Promise<void>((r) => (release = r));
          yield state.slice(1);
        })();
      }
    }
    h = new Harness(['a']);
    const a = await h.boot('a', undefined, { snapshotEvery: 1_000_000 }, new SlowSnapshots());
    await h.clock.until(() => a.node.status().role === 'leader', 20_000);
    await a.node.propose(bytes('x'));
    const taken: { index: number; size: number; writeMs: number }[] = [];
    a.node.on('snapshot', (info) => void taken.push(info));
    const taking = a.node.snapshot();
    // Applying goes on while the snapshot is being written.
    for (let i = 0; i < 5; i++) await a.node.propose(bytes(`y${i}`));
    expect(a.storage.durable.snapshot).toBeNull();
    release();
    const meta = await taking;
    expect(meta.index).toBe(2); // the no-op and 'x', as of the call
    expect(a.storage.durable.snapshot?.index).toBe(2);
    expect(JSON.parse(new TextDecoder().decode(a.storage.durable.snapshotBytes))).toEqual(['x']);
    expect(a.sm.items).toHaveLength(6);
    expect(taken).toEqual([expect.objectContaining({ index: 2, size: a.storage.durable.snapshotBytes!.length })]);
    expect(taken[0]!.writeMs).toBeGreaterThanOrEqual(0);
  });
});
