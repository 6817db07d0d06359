import { describe, expect, test } from 'vitest';
import { seededRandom, snapshotBytes, type SnapshotStream } from '@raftkit/core';
import { encodeCommand, KvErrorCode, KvStateMachine } from '../src/index.js';
import { SNAPSHOT_CHUNK_BYTES, snapshotStream } from '../src/snapshot.js';
import type { KeySpace } from '../src/keySpace.js';
import type { LeaseTable } from '../src/leaseTable.js';
import type { SessionTable } from '../src/sessions.js';
import { MachineHarness, del, put, snapshotHex, tag } from './helpers/machine.js';
import { referenceSnapshot } from './helpers/referenceSnapshot.js';
import { workload } from './helpers/workload.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const meta = (index: number) => ({ index, term: 1, voters: ['a'] });
/** Long enough that the workload's sessions stay live (and in the snapshot). */
const TTL = 10_000_000;

/** A stream of `bytes` cut at the given sizes (cycled), as a storage or a network might. */
function cut(bytes: Uint8Array, sizes: () => number): SnapshotStream {
  return {
    async *[Symbol.asyncIterator]() {
      for (let at = 0; at < bytes.length; ) {
        const n = Math.max(1, sizes());
        yield bytes.subarray(at, at + n);
        at += n;
      }
    },
  };
}

async function chunksOf(stream: SnapshotStream): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

/** A machine with ~`kib` KiB of values in 1 KiB pieces, plus sessions with cached results. */
function bigMachine(kib: number): MachineHarness {
  const h = new MachineHarness();
  const id = h.register();
  for (let i = 0; i < kib; i++) {
    const session = i % 10 === 0 ? tag(id, i / 10 + 1, 1) : null;
    h.write(put(`k/${String(i).padStart(6, '0')}`, new Uint8Array(1024).fill(i & 0xff)), session);
  }
  return h;
}

describe('snapshot streams', () => {
  test.each([1, 2, 3])('yield exactly the bytes of the one-buffer v1 encoding (seed %i)', async (seed) => {
    const h = new MachineHarness({ sessionTtlMs: 5_000 });
    for (const c of workload(seed, 400)) h.apply(c);
    expect(hex(await snapshotBytes(h.machine.snapshot()))).toBe(hex(referenceSnapshot(h.machine)));
  });

  test('a state of several chunks: every chunk but the last is exactly the bound, and the bytes equal the v1 encoding', async () => {
    const h = bigMachine(900);
    const chunks = await chunksOf(h.machine.snapshot());
    expect(chunks.length).toBe(4);
    for (const c of chunks.slice(0, -1)) expect(c.length).toBe(SNAPSHOT_CHUNK_BYTES);
    expect(chunks.at(-1)!.length).toBeLessThanOrEqual(SNAPSHOT_CHUNK_BYTES);
    expect(hex(Buffer.concat(chunks))).toBe(hex(referenceSnapshot(h.machine)));
  });

  test('the encoder cuts chunks anywhere (inside keys, values and the checksum) and the bytes stay the same', async () => {
    const h = new MachineHarness({ sessionTtlMs: 5_000 });
    for (const c of workload(9, 300)) h.apply(c);
    const m = h.machine as unknown as { applied: number; now: number; sessions: SessionTable; keys: KeySpace; leases: LeaseTable };
    const want = hex(referenceSnapshot(h.machine));
    for (const size of [1, 3, 64]) {
      const capture = { index: m.applied, logClock: m.now, sessions: m.sessions.capture(), keys: m.keys.capture(), leases: m.leases.capture() };
      const chunks = await chunksOf(snapshotStream(capture, size));
      expect(chunks.every((c) => c.length <= size)).toBe(true);
      expect(hex(Buffer.concat(chunks))).toBe(want);
    }
  });

  test('a stream can be read twice, with the same bytes', async () => {
    const h = bigMachine(300);
    const s = h.machine.snapshot();
    expect(hex(await snapshotBytes(s))).toBe(hex(await snapshotBytes(s)));
  });
});

describe('the consistent point: a stream yields the state at the call to snapshot()', () => {
  test.each([1, 2, 3])('1,000 commands applied after the call do not change it (seed %i)', async (seed) => {
    const cmds = workload(seed + 50, 1_300);
    const h = new MachineHarness({ sessionTtlMs: 5_000 });
    const prefix = new MachineHarness({ sessionTtlMs: 5_000 });
    for (const c of cmds.slice(0, 300)) {
      h.apply(c);
      prefix.apply(c);
    }
    const stream = h.machine.snapshot();
    for (const c of cmds.slice(300)) h.apply(c);
    const bytes = await snapshotBytes(stream);
    expect(hex(bytes)).toBe(await snapshotHex(prefix.machine));
    expect(hex(bytes)).not.toBe(await snapshotHex(h.machine)); // the later commands did change the machine
    const restored = new KvStateMachine({ sessionTtlMs: 5_000 });
    await restored.restore(stream, meta(prefix.index));
    expect(await snapshotHex(restored)).toBe(await snapshotHex(prefix.machine));
  });

  test('writes between chunks (overwrites, deletes, new keys, session traffic) do not reach chunks not yet read', async () => {
    const h = bigMachine(900);
    const prefix = referenceSnapshot(h.machine);
    const iterator = h.machine.snapshot()[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    for (let i = 0; i < 1_000; i++) {
      const key = `k/${String((i * 7) % 900).padStart(6, '0')}`;
      if (i % 3 === 0) h.write(del(key));
      else if (i % 3 === 1) h.write(put(key, 'overwritten'), tag(1, 100 + i, 100 + i));
      else h.write(put(`k/${String(i).padStart(6, '0')}a`, 'new'));
    }
    const chunks = [first.value as Uint8Array];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) chunks.push(r.value);
    expect(hex(Buffer.concat(chunks))).toBe(hex(prefix));
  });
});

describe('streaming restore', () => {
  const original = new MachineHarness({ sessionTtlMs: TTL });
  for (const c of workload(77, 500)) original.apply(c);
  const bytes = referenceSnapshot(original.machine);
  test('the snapshot under test holds sessions, cached results and keys', () => {
    expect(original.machine.sessionCount).toBeGreaterThan(10);
    expect(bytes.length).toBeGreaterThan(1_000);
  });
  const rand = seededRandom(5);
  const cuts: [string, () => number][] = [
    ['1-byte chunks', () => 1],
    ['random-sized chunks', () => 1 + Math.floor(rand() * 40)],
    ['random-sized larger chunks', () => 1 + Math.floor(rand() * 2_000)],
    ['one chunk', () => bytes.length],
  ];
  test.each(cuts)('%s restore the same state', async (_name, sizes) => {
    const m = new KvStateMachine({ sessionTtlMs: TTL });
    await m.restore(cut(bytes, sizes), meta(original.index));
    expect(await snapshotHex(m)).toBe(hex(bytes));
    expect(m.revision).toBe(original.machine.revision);
    expect(m.sessionCount).toBe(original.machine.sessionCount);
  });

  test('one Uint8Array restores the same state too', async () => {
    const m = new KvStateMachine({ sessionTtlMs: TTL });
    await m.restore(bytes, meta(original.index));
    expect(await snapshotHex(m)).toBe(hex(bytes));
  });

  describe('a damaged stream rejects with KV_SNAPSHOT_CORRUPT and keeps the previous state', () => {
    const previous = bigMachine(5);
    const positions = [0, 4, 5, 9, 40, Math.floor(bytes.length / 2), bytes.length - 5, bytes.length - 4, bytes.length - 1];
    const damaged: [string, Uint8Array][] = [
      ...positions.map((at): [string, Uint8Array] => {
        const b = bytes.slice();
        b[at]! ^= 0x10;
        return [`byte ${at} of ${bytes.length} flipped`, b];
      }),
      ...[0, 1, 5, 100, bytes.length - 4, bytes.length - 1].map((n): [string, Uint8Array] => [`truncated to ${n} bytes`, bytes.subarray(0, n)]),
      ['a trailing byte', new Uint8Array([...bytes, 0])],
    ];
    test.each(damaged)('%s', async (_name, data) => {
      const m = new KvStateMachine();
      await m.restore(previous.machine.snapshot(), meta(previous.index));
      for (const sizes of [() => 1, () => 17, () => data.length]) {
        await expect(m.restore(cut(data, sizes), meta(original.index))).rejects.toMatchObject({ code: KvErrorCode.SnapshotCorrupt });
        expect(await snapshotHex(m)).toBe(await snapshotHex(previous.machine));
      }
    });

    test('an error of the stream itself passes through, and the state is kept', async () => {
      const m = new KvStateMachine();
      await m.restore(previous.machine.snapshot(), meta(previous.index));
      const failing: SnapshotStream = {
        async *[Symbol.asyncIterator]() {
          yield bytes.subarray(0, 100);
          throw new Error('disk read failed');
        },
      };
      await expect(m.restore(failing, meta(original.index))).rejects.toThrow('disk read failed');
      expect(await snapshotHex(m)).toBe(await snapshotHex(previous.machine));
    });
  });
});

test('an apply while a restore is reading its stream is a broken invariant, not silently lost', async () => {
  const source = bigMachine(600);
  const m = new KvStateMachine();
  let applied = false;
  const stream: SnapshotStream = {
    async *[Symbol.asyncIterator]() {
      for await (const c of source.machine.snapshot()) {
        if (!applied) {
          applied = true;
          m.apply({ index: 1, term: 1, data: source.log[2]!.data }); // a put without a session
        }
        yield c;
      }
    },
  };
  await expect(m.restore(stream, meta(source.index))).rejects.toMatchObject({ code: 'RAFT_INVARIANT_VIOLATED' });
  expect(m.revision).toBe(1);
  expect(m.size).toBe(1);
});

test('values are copied out of a Buffer entry or chunk, never views of it (a capture relies on it)', async () => {
  const entry = Buffer.from(encodeCommand({ type: 'write', stamp: 0, session: null, write: put('k', new Uint8Array([1, 2, 3])) }));
  const m = new KvStateMachine();
  m.apply({ index: 1, term: 1, data: entry });
  entry.fill(0);
  expect([...m.read('k')!.value.data]).toEqual([1, 2, 3]);
  const chunk = Buffer.from(await snapshotBytes(m.snapshot()));
  const r = new KvStateMachine();
  await r.restore(chunk, meta(1));
  chunk.fill(0);
  expect([...r.read('k')!.value.data]).toEqual([1, 2, 3]);
});
