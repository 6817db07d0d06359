import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, test } from 'vitest';
import { KvErrorCode, KvStateMachine, isKvError, type KvError } from '../src/index.js';
import { FileValueStore, type FileValueStoreOptions } from '../src/fileValues/index.js';
import { estimateChangeBytes } from '../src/watchHistory.js';
import { MachineHarness, del, put, snapshotHex } from './helpers/machine.js';
import { workload } from './helpers/workload.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dirs: string[] = [];
const stores: FileValueStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-values-'));
  dirs.push(d);
  return d;
}

function open(options: Partial<FileValueStoreOptions> = {}): FileValueStore {
  const s = FileValueStore.open({ dir: path.join(tmp(), 'values'), ...options });
  stores.push(s);
  return s;
}

/** `x` with every stored value (on disk or not) as its kind and bytes in hex, for comparing results. */
function plain(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(plain);
  if (typeof x !== 'object' || x === null) return x;
  const v = x as { kind?: unknown; data?: unknown };
  if (typeof v.kind === 'number' && v.data instanceof Uint8Array) return { kind: v.kind, data: Buffer.from(v.data).toString('hex') };
  return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, plain(e)]));
}

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const segmentFiles = (dir: string): string[] => fs.readdirSync(dir).filter((n) => n.endsWith('.seg'));

/** Collects garbage until `done()` holds (finalizers run in later tasks), at most 50 rounds. */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return done();
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isKvError(err) ? err.code : `not a KvError: ${String(err)}`;
  }
  return undefined;
}

describe('FileValueStore', () => {
  test('values of at least minBytes are kept on disk and read back; smaller ones stay in memory', () => {
    const values = open({ minBytes: 100 });
    const h = new MachineHarness({ values, watchHistory: 0 });
    h.write(put('big', bytes(4096, 7)));
    h.write(put('small', bytes(99, 1)));
    const big = h.machine.read('big')!.value;
    expect(big.heapBytes).toBeDefined();
    expect(big.size).toBe(4096);
    expect([...big.data]).toEqual([...bytes(4096, 7)]);
    expect(h.machine.read('small')!.value.heapBytes).toBeUndefined();
    expect(values.stats()).toMatchObject({ values: 1, liveBytes: 4096 + 8, segments: 1 });
    expect(segmentFiles(path.join(dirs[0]!, 'values'))).toHaveLength(1);
  });

  test.each([1, 2, 3])('a machine with every value on disk makes byte-identical snapshots to one in memory (seed %i)', async (seed) => {
    const values = open({ minBytes: 0, segmentBytes: 4096 });
    const a = new MachineHarness({ sessionTtlMs: 5_000 });
    const b = new MachineHarness({ sessionTtlMs: 5_000, values, watchHistory: 0 });
    for (const c of workload(seed, 400)) {
      expect(plain(b.apply(c))).toEqual(plain(a.apply(c)));
    }
    await collectUntil(() => false); // let finalizers and compaction run
    await new Promise((r) => setImmediate(r));
    expect(await snapshotHex(b.machine)).toBe(await snapshotHex(a.machine));
    // Restoring into a third machine with its own store gives the same state again.
    const c = new KvStateMachine({ sessionTtlMs: 5_000, values: open({ minBytes: 0 }) });
    await c.restore(b.machine.snapshot(), { index: b.index, term: 1, voters: ['a'] });
    expect(await snapshotHex(c)).toBe(await snapshotHex(a.machine));
  });

  test('overwritten and deleted values are reclaimed: empty segments are deleted, sparse ones compacted', async () => {
    const values = open({ minBytes: 0, segmentBytes: 16 * 1024 });
    const h = new MachineHarness({ values, watchHistory: 0 });
    const key = (i: number) => `k${String(i).padStart(3, '0')}`;
    for (let round = 0; round < 20; round++) for (let i = 0; i < 40; i++) h.write(put(key(i), bytes(1000, round)));
    // A third of the keys from round 0 are kept alive in old segments by deleting the others
    // after writing them once more: the live values end up scattered.
    for (let i = 0; i < 40; i++) if (i % 3 !== 0) h.write(del(key(i)));
    const live = Math.ceil(40 / 3);
    expect(await collectUntil(() => values.stats().values === live)).toBe(true);
    const s = values.stats();
    expect(s.liveBytes).toBe(live * 1008);
    // 20 rounds wrote ~800 KB; what is left on disk is about the live values and the open segment.
    expect(s.fileBytes).toBeLessThan(4 * 16 * 1024);
    for (let i = 0; i < 40; i += 3) expect([...h.machine.read(key(i))!.value.data]).toEqual([...bytes(1000, 19)]);
  });

  test('compaction moves values a snapshot capture still reads, without changing them', async () => {
    const values = open({ minBytes: 0, segmentBytes: 8 * 1024 });
    const h = new MachineHarness({ values, watchHistory: 0 });
    for (let i = 0; i < 30; i++) h.write(put(`k${i}`, bytes(1000, i)));
    // Two of every three keys overwritten: each first segment keeps a third of its bytes reachable.
    for (let i = 0; i < 30; i++) if (i % 3 !== 0) h.write(put(`k${i}`, bytes(1000, 200)));
    const before = await snapshotHex(h.machine);
    const capture = h.machine.snapshot();
    for (let i = 0; i < 30; i++) h.write(put(`k${i}`, bytes(1000, 201))); // now only the capture holds them
    expect(await collectUntil(() => values.stats().compactions > 0)).toBe(true);
    const chunks: Uint8Array[] = [];
    for await (const c of capture) chunks.push(c);
    expect(Buffer.concat(chunks).toString('hex')).toBe(before);
    for (let i = 0; i < 30; i++) expect(h.machine.read(`k${i}`)!.value.data[999]).toBe(201);
  });

  test('sparse segments are compacted once nothing else holds their values', async () => {
    const values = open({ minBytes: 0, segmentBytes: 8 * 1024 });
    const h = new MachineHarness({ values, watchHistory: 0 });
    for (let i = 0; i < 30; i++) h.write(put(`k${i}`, bytes(1000, i)));
    for (let i = 0; i < 30; i++) if (i % 3 !== 0) h.write(put(`k${i}`, bytes(1000, 200)));
    for (let i = 0; i < 30; i++) if (i % 3 !== 0) h.write(put(`k${i}`, bytes(1000, 201)));
    expect(await collectUntil(() => values.stats().compactions > 0)).toBe(true);
    expect(values.stats().movedBytes).toBeGreaterThan(0);
    for (let i = 0; i < 30; i++) expect(h.machine.read(`k${i}`)!.value.data[0]).toBe(i % 3 === 0 ? i : 201);
  });

  test('a damaged value file is reported with KV_VALUE_STORE naming the file, not returned', () => {
    const values = open({ minBytes: 0 });
    const h = new MachineHarness({ values, watchHistory: 0 });
    h.write(put('k', bytes(64, 5)));
    const dir = path.join(dirs[0]!, 'values');
    const file = path.join(dir, segmentFiles(dir)[0]!);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 20);
    fs.closeSync(fd);
    let err: unknown;
    try {
      void h.machine.read('k')!.value.data;
    } catch (e) {
      err = e;
    }
    expect(isKvError(err, KvErrorCode.ValueStore)).toBe(true);
    expect((err as KvError).message).toContain(file);
    expect((err as KvError).message).toContain('checksum mismatch');
    fs.truncateSync(file, 30);
    expect(() => h.machine.read('k')!.value.data).toThrow(/ends \d+ bytes early/);
  });

  test('a value that cannot be written stays in memory, is reported once, and nothing is lost', () => {
    const reported: KvError[] = [];
    const values = open({ minBytes: 0, segmentBytes: 4096, onError: (e) => reported.push(e) });
    const dir = path.join(dirs[0]!, 'values');
    const h = new MachineHarness({ values, watchHistory: 0 });
    h.write(put('a', bytes(3000, 1)));
    // No new segment can be created: the directory is replaced by a file.
    fs.rmSync(dir, { recursive: true });
    fs.writeFileSync(dir, 'not a directory');
    for (let i = 0; i < 5; i++) h.write(put(`b${i}`, bytes(3000, 2 + i)));
    expect(reported).toHaveLength(1);
    expect(reported[0]!.code).toBe(KvErrorCode.ValueStore);
    expect(reported[0]!.message).toContain('keeping it in memory');
    expect(values.stats().fallbacks).toBe(5);
    for (let i = 0; i < 5; i++) expect(h.machine.read(`b${i}`)!.value.data[2999]).toBe(2 + i);
    expect(h.machine.read('a')!.value.data[0]).toBe(1); // the open segment's file is unlinked, not closed
  });

  test('open deletes old segment files, keeps other files, and close removes its files and lock', () => {
    const dir = path.join(tmp(), 'values');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'values-00000009.seg'), 'left by a crash');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const values = FileValueStore.open({ dir, minBytes: 0 });
    expect(fs.readdirSync(dir).sort()).toEqual(['LOCK', 'notes.txt', 'values-00000001.seg']);
    const held = values.hold({ kind: 0, data: bytes(10, 3) });
    values.close();
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    expect(codeOf(() => held.data)).toBe(KvErrorCode.ValueStore);
    expect(values.hold({ kind: 0, data: bytes(10, 4) }).data[0]).toBe(4); // after close: kept in memory
  });

  test('a directory locked by a live process is refused; a stale lock is taken over', async () => {
    const dir = path.join(tmp(), 'values');
    fs.mkdirSync(dir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(dir, 'LOCK'), `${child.pid}\n`);
      let err: unknown;
      try {
        FileValueStore.open({ dir });
      } catch (e) {
        err = e;
      }
      expect(isKvError(err, KvErrorCode.ValueStore)).toBe(true);
      expect((err as Error).message).toContain(`in use by process ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const values = FileValueStore.open({ dir }); // the process is gone
    stores.push(values);
    expect(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    expect(codeOf(() => FileValueStore.open({ dir }))).toBe(KvErrorCode.ValueStore); // open in this process
    values.close();
    stores.push(FileValueStore.open({ dir })); // closed: free again
  });

  test('a value on disk serializes to JSON as a value in memory does', () => {
    const values = open({ minBytes: 0 });
    const held = values.hold({ kind: 1, data: new TextEncoder().encode('"hi"') });
    expect(held.heapBytes).toBeDefined();
    expect(JSON.stringify(held)).toBe(JSON.stringify({ kind: 1, data: new TextEncoder().encode('"hi"') }));
  });

  test('bad options are refused with KV_INVALID_ARGUMENT', () => {
    const dir = tmp();
    expect(codeOf(() => FileValueStore.open({ dir: '' }))).toBe(KvErrorCode.InvalidArgument);
    expect(codeOf(() => FileValueStore.open({ dir, minBytes: -1 }))).toBe(KvErrorCode.InvalidArgument);
    expect(codeOf(() => FileValueStore.open({ dir, segmentBytes: 10 }))).toBe(KvErrorCode.InvalidArgument);
    expect(codeOf(() => FileValueStore.open({ dir, compactBelow: 1 }))).toBe(KvErrorCode.InvalidArgument);
    expect(codeOf(() => new KvStateMachine({ values: {} as never }))).toBe(KvErrorCode.InvalidArgument);
  });

  test('the watch history counts a value on disk by its small heap cost, not its size', () => {
    const values = open({ minBytes: 0 });
    const h = new MachineHarness({ values, watchHistory: 0 });
    h.write(put('k', bytes(100_000, 1)));
    const record = h.machine.read('k')!;
    const onDisk = estimateChangeBytes([{ type: 'put', key: 'k', record }]);
    const inMemory = estimateChangeBytes([{ type: 'put', key: 'k', record: { ...record, value: { kind: 0, data: bytes(100_000, 1) } } }]);
    expect(onDisk).toBeLessThan(1000);
    expect(inMemory).toBeGreaterThan(100_000);
  });
});
