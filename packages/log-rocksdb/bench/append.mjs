// Append throughput of RocksLogStorage, and what it costs the main thread's event loop.
// Runs against the built package: `pnpm build && pnpm bench`. BENCH_SECONDS sets each case's
// duration (default 2), BENCH_DIR the parent directory of the scratch databases.
//
// 1. One-entry saves (256 bytes) from 1, 16 and 64 concurrent callers: saves/s, synced batches
//    per save (group commit), the main thread's event-loop delay p99 during the case, its
//    longest stall (a 1 ms interval timer's longest gap, up to the end of the case: a loop that
//    never turns gives the histogram no sample at all), its utilisation (share of the time it
//    was busy), and the WAL syncs RocksDB itself counted (`rocksdb.dbstats`): a binding that
//    never fsyncs would show 0 there, which no kill -9 test can tell.
// 2. 1, 64 and 1024 entries per save, awaited one at a time and from 64 concurrent callers.
//
// Manual cross-check of the fsyncs with the kernel's count (strace is not needed otherwise):
//   strace -f -qq -c -e trace=fsync,fdatasync -o /tmp/fsyncs.txt node bench/append.mjs
// fdatasync calls (WAL syncs, plus one watermark sync per synced batch at most, coalesced)
// should then be at least the sum of the "WAL syncs" column.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const dist = new URL('../dist/index.js', import.meta.url);
if (!existsSync(dist)) {
  console.error('bench runs the built package: run `pnpm build` first');
  process.exit(1);
}
const { RocksLogStorage } = await import(dist.href);

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ENTRY_BYTES = 256;
const payload = new Uint8Array(ENTRY_BYTES).map((_, i) => i);

function makeSave(first, count) {
  const entries = [];
  for (let i = first; i < first + count; i++) entries.push({ index: i, term: 1, type: 0, data: payload });
  return { entries, hardState: { term: 1, vote: 'bench', commit: first + count - 1 } };
}

/**
 * Appends until the deadline from `callers` loops, each awaiting its own saves; indexes are
 * taken in call order, so the log stays consecutive. Returns the entries saved.
 */
async function append(storage, perSave, callers, deadline) {
  let next = 1;
  let done = 0;
  async function caller() {
    while (performance.now() < deadline) {
      const first = next;
      next += perSave;
      await storage.save(makeSave(first, perSave));
      done += perSave;
    }
  }
  await Promise.all(Array.from({ length: callers }, caller));
  return done;
}

/**
 * RocksDB's own WAL counters since open ("Cumulative WAL: N writes, M syncs"; not the "Interval"
 * line, which RocksDB's periodic stats dump also resets).
 */
function walCounts(storage) {
  const line = /Cumulative WAL: (\S+) writes, (\S+) syncs/.exec(storage.rocksdbProperty('rocksdb.dbstats'));
  if (!line) throw new Error('rocksdb.dbstats has no "Cumulative WAL" line: cannot verify WAL syncs');
  // RocksDB abbreviates counts of 10,000 and more (12K): those are then rounded down.
  const count = (s) => ({ K: 1e3, M: 1e6, G: 1e9 })[s.at(-1)] * parseInt(s, 10) || Number(s);
  return { writes: count(line[1]), syncs: count(line[2]), rounded: /[KMG]$/.test(line[2]) };
}

/** The longest gap between the fires of a 1 ms interval timer, counting the gap up to `stop()`. */
function stallProbe() {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    return Math.max(longest, performance.now() - last);
  };
}

async function runCase(perSave, callers) {
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'raftkit-bench-'));
  const storage = await RocksLogStorage.open(dir);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  try {
    const walBefore = walCounts(storage);
    const before = storage.stats();
    delay.enable();
    const stopProbe = stallProbe();
    const busy = performance.eventLoopUtilization();
    const start = performance.now();
    const entries = await append(storage, perSave, callers, start + SECONDS * 1000);
    const seconds = (performance.now() - start) / 1000;
    const utilisation = performance.eventLoopUtilization(busy).utilization;
    const stall = stopProbe();
    delay.disable();
    const after = storage.stats();
    const walAfter = walCounts(storage);
    const wal = { syncs: walAfter.syncs - walBefore.syncs, rounded: walAfter.rounded };
    const batches = after.syncedBatches - before.syncedBatches;
    const saves = after.saves - before.saves;
    // Every synced batch must be one WAL sync (one writer thread: RocksDB cannot merge them).
    const synced = wal.syncs >= (wal.rounded ? Math.floor(batches / 1000) * 1000 : batches);
    return {
      'entries/save': perSave,
      callers,
      'saves/s': Math.round(saves / seconds),
      'entries/s': Math.round(entries / seconds),
      'MB/s': +((entries * ENTRY_BYTES) / seconds / 1e6).toFixed(2),
      'synced batches/save': +(batches / saves).toFixed(3),
      'WAL syncs': `${wal.rounded ? '~' : ''}${wal.syncs}`,
      'WAL syncs/batch': `${wal.rounded ? '~' : ''}${(wal.syncs / batches).toFixed(2)}`,
      fsynced: synced ? 'yes' : 'NO',
      'ELD p99 ms': delay.count > 0 ? +(delay.percentile(99) / 1e6).toFixed(2) : 'no sample',
      'longest stall ms': +stall.toFixed(1),
      'main busy': +utilisation.toFixed(2),
    };
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`RocksLogStorage append: ${ENTRY_BYTES}-byte entries, ${SECONDS}s per case`);
const rows = [];
for (const callers of [1, 16, 64]) rows.push(await runCase(1, callers));
for (const perSave of [64, 1024]) {
  for (const callers of [1, 64]) rows.push(await runCase(perSave, callers));
}
console.table(rows);
console.log(
  'synced batches/save: fsync\'d batches per save (group commit lowers it). WAL syncs: syncs RocksDB counted ' +
    '(rocksdb.dbstats), one per synced batch when writes really fsync. ELD: the main thread\'s event-loop delay ' +
    '(perf_hooks.monitorEventLoopDelay, 1 ms resolution, which its figures include). Longest stall: the longest ' +
    'the main thread went without running a timer. Main busy: its event-loop utilisation (1 = never idle).',
);
const unsynced = rows.filter((row) => row.fsynced !== 'yes');
if (unsynced.length > 0) {
  console.error(`WAL syncs fell short of the synced batches in ${unsynced.length} case(s): writes are not being fsync'd`);
  process.exitCode = 1;
}
