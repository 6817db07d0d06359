// The fault helpers behind wal-damage and fd-limit, on synthetic files and a local server.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ConnectionFlood } from '../src/chaos/connectionFlood.js';
import { seededRandom } from '../src/chaos/random.js';
import { damageNewestWal } from '../src/chaos/walDamage.js';

/** A RocksDB-format WAL of `n` physical records of 100-byte payloads in one 32 KiB block. */
function wal(n: number): Buffer {
  const records = Array.from({ length: n }, (_, i) => {
    const r = Buffer.alloc(7 + 100, i + 1);
    r.writeUInt32LE(0xdeadbeef, 0);
    r.writeUInt16LE(100, 4);
    r[6] = 1; // kFullType
    return r;
  });
  return Buffer.concat(records);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'raftkit-chaos-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('WAL damage', () => {
  test('flips bytes inside a record payload of the newest WAL, never its header or an older WAL', () => {
    writeFileSync(join(dir, '000003.log'), wal(10));
    writeFileSync(join(dir, '000007.log'), wal(10));
    const d = damageNewestWal(dir, 'flip', seededRandom(1));
    expect(d?.detail).toMatch(/^flip 8 bytes at \d+ of 000007\.log$/);
    const [before, after] = [wal(10), readFileSync(join(dir, '000007.log'))];
    const changed = [...after.keys()].filter((i) => after[i] !== before[i]);
    expect(changed).toHaveLength(8);
    for (const i of changed) expect(i % 107).toBeGreaterThanOrEqual(7);
    expect(readFileSync(join(dir, '000003.log')).equals(wal(10))).toBe(true);
  });

  test('truncates at a record boundary, keeping 10-60% of the records; deletes the whole file', () => {
    writeFileSync(join(dir, '000005.log'), wal(20));
    expect(damageNewestWal(dir, 'truncate', seededRandom(2))?.detail).toMatch(/^truncate 000005\.log to \d+ bytes \(\d+ of 20 records\)$/);
    const size = statSync(join(dir, '000005.log')).size;
    expect(size % 107).toBe(0);
    expect(size / 107).toBeGreaterThanOrEqual(2);
    expect(size / 107).toBeLessThanOrEqual(12);
    expect(damageNewestWal(dir, 'delete', seededRandom(3))?.detail).toBe(`delete 000005.log (${size / 107} records, ${size} bytes)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('skips WALs with too few records to damage meaningfully, and the same seed damages the same bytes', () => {
    writeFileSync(join(dir, '000009.log'), wal(2));
    expect(damageNewestWal(dir, 'flip', seededRandom(4))).toBeNull();
    writeFileSync(join(dir, '000004.log'), wal(10));
    const first = damageNewestWal(dir, 'flip', seededRandom(4))?.detail;
    writeFileSync(join(dir, '000004.log'), wal(10));
    expect(damageNewestWal(dir, 'flip', seededRandom(4))?.detail).toBe(first);
    expect(first).toContain('000004.log');
  });
});

test('a connection flood holds its connections open and counts how they were answered', async () => {
  let open = 0;
  const server = createServer((_req, res) => res.writeHead(open > 5 ? 503 : 200).end('{}'));
  server.on('connection', () => open++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const flood = new ConnectionFlood((server.address() as { port: number }).port, 10);
  flood.open();
  while (open < 10) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  const tally = flood.close();
  expect(tally).toMatch(/^\d+ answered, \d+ refused, 0 closed$/);
  const [answered, refused] = tally.split(' ').filter((w) => /^\d+$/.test(w)).map(Number);
  expect(answered! + refused!).toBe(10);
  expect(refused).toBeGreaterThan(0);
  await new Promise((r) => server.close(r));
});
