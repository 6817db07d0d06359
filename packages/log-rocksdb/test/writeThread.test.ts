// Storage I/O off the event loop (issue 11): batches are written by the write worker, the main
// thread keeps running while one is in flight, and the worker's death stops the storage.
import { threadId } from 'node:worker_threads';
import { RocksLevel } from '@nxtedition/rocksdb';
import { ErrorCode } from '@raftkit/core';
import { expectEntries, expectRaftError, makeEntries } from '@raftkit/log-storage-suite';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { entryKey } from '../src/codec.js';
import { RocksLogStorage } from '../src/index.js';
import { packOps, unpackOps } from '../src/packedOps.js';
import { WriteThread, testHooks } from '../src/writeThread.js';
import { makeTempDir, removeDir } from './tempDir.js';

let dir: string;
let storage: RocksLogStorage | null = null;
beforeEach(async () => {
  dir = await makeTempDir('raftkit-thread-');
});
afterEach(async () => {
  testHooks.gate = null;
  testHooks.workerFile = null;
  await storage?.close().catch(() => undefined);
  storage = null;
  await removeDir(dir);
});

// ES2024 (Node 16+), not in this package's ES2022 lib typings.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { value: Promise<string> | string } }).waitAsync;

/** The worker holds every write at this gate until `release()` (testHooks.gate). */
function holdWrites(): { reached(count: number): Promise<void>; release(): void } {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  testHooks.gate = gate;
  return {
    async reached(count) {
      for (let seen = Atomics.load(gate, 1); seen < count; seen = Atomics.load(gate, 1)) {
        await waitAsync(gate, 1, seen).value;
      }
    },
    release() {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
  };
}

/** Whether `promise` is still pending after `turns` turns of the event loop (macrotasks). */
async function pendingAfter(promise: Promise<unknown>, turns: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let turn = 0; turn < turns && !settled; turn++) await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

async function seed(entries: ReturnType<typeof makeEntries>): Promise<void> {
  const s = await RocksLogStorage.open(dir);
  await s.save({ entries });
  await s.close();
}

function threadOf(s: RocksLogStorage): WriteThread {
  return (s as unknown as { thread: WriteThread }).thread;
}

describe('writes happen off the main thread', () => {
  test('the main thread never writes a batch; the worker reports its own thread', async () => {
    const s = (storage = await RocksLogStorage.open(dir));
    const proto = RocksLevel.prototype as unknown as { batch: (...args: unknown[]) => unknown };
    const original = proto.batch;
    let mainThreadBatches = 0;
    proto.batch = function (this: unknown, ...args: unknown[]) {
      mainThreadBatches++;
      return Reflect.apply(original, this, args);
    };
    try {
      await s.save({ entries: makeEntries(1, 5), hardState: { term: 1, vote: 'a', commit: 2 } });
      await Promise.all(Array.from({ length: 20 }, (_, k) => s.save({ entries: makeEntries(6 + k, 1) })));
    } finally {
      proto.batch = original;
    }
    expect(mainThreadBatches).toBe(0);
    expect(s.stats().syncedBatches).toBeGreaterThanOrEqual(2);
    const thread = threadOf(s);
    expect(thread.lastWriterThreadId).toBe(thread.workerForTest.threadId);
    expect(thread.lastWriterThreadId).not.toBe(threadId);
    expectEntries(await s.entries(1, 26), makeEntries(1, 25));
  });

  test('a backlog of several batches lets the event loop turn between every two of them', async () => {
    // 10 saves of 121 bytes with maxBatchBytes 300: 5 batches of 2, all queued at once.
    const s = (storage = await RocksLogStorage.open(dir, { maxBatchBytes: 300 }));
    const before = s.stats().syncedBatches;
    const saves = Array.from({ length: 10 }, (_, k) => s.save({ entries: makeEntries(k + 1, 1, 1, 100) }));
    let turns = 0;
    let counting = true;
    const count = (): void => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    await saves.at(-1);
    counting = false;
    const batches = s.stats().syncedBatches - before;
    expect(batches).toBe(5);
    // Each batch completes in its own macrotask (the worker's reply); before, one completion
    // ran into the next write without returning to the event loop, and this counted 0.
    expect(turns).toBeGreaterThanOrEqual(batches - 1);
  });

  test('while a synced batch is in flight the main thread runs macrotasks and serves reads', async () => {
    await seed(makeEntries(1, 3));
    const held = holdWrites();
    const s2 = (storage = await RocksLogStorage.open(dir));
    const append = s2.save({ entries: makeEntries(4, 2), hardState: { term: 1, vote: null, commit: 3 } });
    await held.reached(1);
    expect(await pendingAfter(append, 50)).toBe(true);
    // An append past the durable log changes nothing a reader of it reads: reads go on.
    expect((await s2.state()).lastIndex).toBe(3);
    expectEntries(await s2.entries(1, 4), makeEntries(1, 3));
    const queued = s2.save({ entries: makeEntries(6, 1) }); // joins the next batch
    held.release();
    await Promise.all([append, queued]);
    expect((await s2.state()).lastIndex).toBe(6);
    expect((await s2.state()).hardState.commit).toBe(3);
  });

  test('a read waits while a batch that rewrites the durable log is in flight', async () => {
    await seed(makeEntries(1, 10, 1));
    const held = holdWrites();
    const s2 = (storage = await RocksLogStorage.open(dir));
    const truncate = s2.save({ entries: makeEntries(5, 1, 2) }); // Raft §5.3: drops 6..10
    await held.reached(1);
    const read = s2.entries(1, 11);
    expect(await pendingAfter(read, 50)).toBe(true);
    held.release();
    await truncate;
    // The read then sees the new view: 10 is beyond the last index 5.
    await expectRaftError(read, ErrorCode.Unavailable);
  });
});

test('saves settle in call order, an invalid one among them too', async () => {
  const s = (storage = await RocksLogStorage.open(dir));
  const order: string[] = [];
  const track = (name: string, p: Promise<void>): Promise<void> =>
    p.then(
      () => void order.push(`${name} ok`),
      (error: { code?: string }) => void order.push(`${name} ${error.code}`),
    );
  await Promise.all([
    track('first', s.save({ entries: makeEntries(1, 5) })),
    track('hole', s.save({ entries: makeEntries(7, 2) })),
    track('next', s.save({ entries: makeEntries(6, 5) })),
  ]);
  expect(order).toEqual(['first ok', `hole ${ErrorCode.InvalidArgument}`, 'next ok']);
});

describe('fail-stop when the worker dies', () => {
  test('a pending save rejects naming the cause, later calls reject, acknowledged data survives', async () => {
    let s = (storage = await RocksLogStorage.open(dir));
    await s.save({ entries: makeEntries(1, 4), hardState: { term: 1, vote: 'a', commit: 4 } });
    await s.close();
    const held = holdWrites();
    s = storage = await RocksLogStorage.open(dir);
    const pending = s.save({ entries: makeEntries(5, 1) });
    await held.reached(1);
    const saves = s.stats().saves;
    await threadOf(s).workerForTest.terminate();
    const err = await expectRaftError(pending, ErrorCode.StorageFailed);
    expect(err.message).toMatch(/write worker exited unexpectedly/);
    expect(s.stats().saves).toBe(saves); // not counted as durable
    const later = await expectRaftError(s.save({ entries: makeEntries(5, 1) }), ErrorCode.StorageFailed);
    expect(later.message).toMatch(/stopped after an earlier failure.*write worker exited unexpectedly/);
    await expectRaftError(s.entries(1, 2), ErrorCode.StorageFailed);
    await s.close();
    testHooks.gate = null;
    s = storage = await RocksLogStorage.open(dir);
    const state = await s.state();
    expect(state.lastIndex).toBeGreaterThanOrEqual(4); // entry 5 may or may not have been written
    expect(state.hardState).toEqual({ term: 1, vote: 'a', commit: 4 });
    expectEntries(await s.entries(1, 5), makeEntries(1, 4));
  });

  test('a worker that dies while idle fails the next save', async () => {
    const s = (storage = await RocksLogStorage.open(dir));
    await s.save({ entries: makeEntries(1, 1) });
    await threadOf(s).workerForTest.terminate();
    const err = await expectRaftError(s.save({ entries: makeEntries(2, 1) }), ErrorCode.StorageFailed);
    expect(err.message).toMatch(/write worker exited unexpectedly/);
  });

  test('a worker that cannot start fails open with RAFT_STORAGE_FAILED and leaves the directory closed', async () => {
    testHooks.workerFile = new URL('./no-such-worker.cjs', import.meta.url);
    const err = await expectRaftError(RocksLogStorage.open(dir), ErrorCode.StorageFailed);
    expect(err.message).toMatch(/could not start its write worker/);
    testHooks.workerFile = null;
    storage = await RocksLogStorage.open(dir); // not left locked
    await storage.save({ entries: makeEntries(1, 1) });
  });
});

test('packed batches round-trip puts (also empty values) and deletes', () => {
  const ops = [
    { type: 'put' as const, key: entryKey(7), value: Buffer.from('seven') },
    { type: 'del' as const, key: entryKey(8) },
    { type: 'put' as const, key: Buffer.from([0, 2]), value: Buffer.alloc(0) },
    { type: 'put' as const, key: entryKey(9), value: Buffer.alloc(70_000, 9) },
  ];
  const packed = packOps(ops);
  expect(packed).toBeInstanceOf(ArrayBuffer);
  expect(packed.byteLength).toBe(4 * 9 + 3 * 9 + 2 + 5 + 70_000);
  const back = unpackOps(packed);
  expect(back.map((op) => op.type)).toEqual(['put', 'del', 'put', 'put']);
  back.forEach((op, k) => {
    expect(op.key.equals(ops[k].key)).toBe(true);
    if (op.type === 'put') expect(op.value.equals((ops[k] as { value: Buffer }).value)).toBe(true);
  });
});

describe('rocksdbProperty', () => {
  test("RocksDB's own count shows every synced batch written by the worker fsync'd the WAL", async () => {
    const s = (storage = await RocksLogStorage.open(dir));
    const syncs = (): number => Number(/Cumulative WAL: \d+ writes, (\d+) syncs/.exec(s.rocksdbProperty('rocksdb.dbstats'))![1]);
    const before = syncs();
    for (let i = 1; i <= 5; i++) await s.save({ entries: makeEntries(i, 1) });
    await s.save({ hardState: { term: 1, vote: null, commit: 5 }, sync: false }); // no fsync asked
    expect(s.stats().syncedBatches).toBe(5);
    expect(syncs() - before).toBe(5);
  });

  test('a name that is not a string is RAFT_INVALID_ARGUMENT; after close, RAFT_STORAGE_FAILED', async () => {
    const s = (storage = await RocksLogStorage.open(dir));
    expect(s.rocksdbProperty('rocksdb.no-such-property')).toBe('');
    expect(() => s.rocksdbProperty(7 as unknown as string)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    await s.close();
    expect(() => s.rocksdbProperty('rocksdb.dbstats')).toThrow(expect.objectContaining({ code: ErrorCode.StorageFailed }));
  });
});
