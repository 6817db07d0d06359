// Append throughput of RocksLogStorage: 256-byte entries, 1/64/1024 entries per save, saves
// awaited one at a time ("sequential") or many in flight ("concurrent", showing group commit).
// Runs against the built package: `pnpm build && pnpm bench`. BENCH_SECONDS sets each case's
// duration (default 2), BENCH_DIR the parent directory of the scratch databases.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../dist/index.js', import.meta.url);
if (!existsSync(dist)) {
  console.error('bench runs the built package: run `pnpm build` first');
  process.exit(1);
}
const { RocksLogStorage } = await import(dist.href);

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ENTRY_BYTES = 256;
const IN_FLIGHT = 64;
const payload = new Uint8Array(ENTRY_BYTES).map((_, i) => i);

function makeSave(first, count) {
  const entries = [];
  for (let i = first; i < first + count; i++) entries.push({ index: i, term: 1, type: 0, data: payload });
  return { entries, hardState: { term: 1, vote: 'bench', commit: first + count - 1 } };
}

/**
 * Appends until the deadline from `workers` loops, each awaiting its own saves; indexes are
 * taken in call order, so the log stays consecutive. Returns the entries saved.
 */
async function append(storage, perSave, workers, deadline) {
  let next = 1;
  let done = 0;
  async function worker() {
    while (performance.now() < deadline) {
      const first = next;
      next += perSave;
      await storage.save(makeSave(first, perSave));
      done += perSave;
    }
  }
  await Promise.all(Array.from({ length: workers }, worker));
  return done;
}

async function runCase(perSave, mode) {
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'raftkit-bench-'));
  const storage = await RocksLogStorage.open(dir);
  try {
    const before = storage.stats();
    const start = performance.now();
    const entries = await append(storage, perSave, mode === 'sequential' ? 1 : IN_FLIGHT, start + SECONDS * 1000);
    const seconds = (performance.now() - start) / 1000;
    const after = storage.stats();
    const batches = after.syncedBatches - before.syncedBatches;
    return {
      'entries/save': perSave,
      mode,
      'entries/s': Math.round(entries / seconds),
      'MB/s': +((entries * ENTRY_BYTES) / seconds / 1e6).toFixed(2),
      'saves/s': Math.round(entries / perSave / seconds),
      'fsyncs/s': Math.round(batches / seconds),
      'saves/fsync': +(after.saves - before.saves) / batches,
    };
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`RocksLogStorage append: ${ENTRY_BYTES}-byte entries, ${SECONDS}s per case, ${IN_FLIGHT} saves in flight when concurrent`);
const rows = [];
for (const perSave of [1, 64, 1024]) {
  for (const mode of ['sequential', 'concurrent']) rows.push(await runCase(perSave, mode));
}
for (const row of rows) row['saves/fsync'] = +row['saves/fsync'].toFixed(1);
console.table(rows);
console.log('MB/s counts entry payload bytes; fsyncs/s counts synced batches (one fsync of the WAL each).');
