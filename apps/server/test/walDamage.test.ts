// A follower whose RocksDB write-ahead log was damaged while it was stopped must refuse to start
// with a coded error (never serve, or vote, with a shorter log than it acknowledged), and the
// other two nodes keep every acknowledged write.
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Cluster, type ServerNode } from './helpers/cluster.js';
import { putJson, rangeAll } from './helpers/http.js';

const KEYS = 30;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start();
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(() => cluster?.stop());

/** The newest RocksDB WAL file of a node's log storage. */
function newestWal(n: ServerNode): string {
  const dir = join(n.dataDir, 'raft');
  const logs = readdirSync(dir).filter((f) => /^\d+\.log$/.test(f));
  logs.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  if (logs.length === 0) throw new Error(`no WAL in ${dir}`);
  return join(dir, logs[logs.length - 1]!);
}

/** Start offsets of the physical records (RocksDB db/log_format.h: `crc u32 | len u16 | type u8 | payload` in 32 KiB blocks). */
function recordStarts(buf: Buffer): number[] {
  const starts: number[] = [];
  for (let block = 0; block < buf.length; block += 32 * 1024) {
    const limit = Math.min(block + 32 * 1024, buf.length);
    for (let pos = block; limit - pos >= 7; ) {
      const length = buf.readUInt16LE(pos + 4);
      if ((buf[pos + 6] === 0 && length === 0) || pos + 7 + length > limit) break;
      starts.push(pos);
      pos += 7 + length;
    }
  }
  return starts;
}

/** Starts the damaged node and expects it to exit non-zero, naming `code`. */
async function expectRefusesToStart(n: ServerNode, code: string): Promise<void> {
  n.start();
  const exit = await n.exit(20_000);
  expect(exit.code, n.logTail(10)).not.toBe(0);
  expect(exit.signal).toBeNull();
  // Refused while opening its storage, before serving or voting: not stopped later by a leader.
  expect(n.logTail(20)).toContain(`raftkit-server: failed to start: ${code}`);
}

test('a follower with a damaged or truncated WAL refuses to start; the others keep every acknowledged write', async () => {
  const leader = await cluster.leader();
  const acked = new Map<string, number>();
  for (let i = 0; i < KEYS; i++) {
    const r = await putJson(leader.url, `wal/${i}`, { i });
    expect(r.status, r.text).toBe(200);
    acked.set(`wal/${i}`, r.json.revision);
  }
  const follower = cluster.nodes.find((n) => n !== leader)!;
  await cluster.caughtUp(follower, Math.max(...acked.values()));
  const stopped = await follower.kill('SIGTERM');
  expect(stopped.code).toBe(0);

  const wal = newestWal(follower);
  const original = readFileSync(wal);
  const starts = recordStarts(original);
  expect(starts.length).toBeGreaterThan(KEYS); // one record per synced batch at least

  // Flipped bytes in the middle: RocksDB alone would replay up to them and silently drop the rest.
  const flipped = Buffer.from(original);
  flipped[starts[Math.floor(starts.length / 2)]! + 9] ^= 0x20;
  writeFileSync(wal, flipped);
  await expectRefusesToStart(follower, 'RAFT_STORAGE_CORRUPT');
  expect(follower.logTail(20)).toContain(wal);

  // Cut at a record boundary: a shorter WAL that RocksDB cannot tell from a complete one.
  writeFileSync(wal, original);
  truncateSync(wal, starts[Math.floor(starts.length / 2)]!);
  await expectRefusesToStart(follower, 'RAFT_STORAGE_LOST');
  expect(follower.logTail(20)).toMatch(/wipe its data directory/);

  // The two healthy nodes still hold a quorum and every acknowledged write.
  const live = await cluster.leader();
  expect(live).not.toBe(follower);
  const seen = await rangeAll(live.url, 'wal/');
  for (const [key, revision] of acked) expect(seen.get(key)?.modRevision, key).toBe(revision);
  const after = await putJson(live.url, 'wal/after', { ok: true });
  expect(after.status, after.text).toBe(200);
  expect(follower.running).toBe(false);
}, 90_000);
