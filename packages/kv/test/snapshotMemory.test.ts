import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import type { SnapshotStream } from '@raftkit/core';
import { KvStateMachine } from '../src/index.js';
import { SNAPSHOT_CHUNK_BYTES } from '../src/snapshot.js';
import { MachineHarness, put } from './helpers/machine.js';

/** Megabytes of values in the state (`KV_SNAPSHOT_MB` to measure a bigger one by hand). */
const MB = Number(process.env.KV_SNAPSHOT_MB ?? 100);
const MiB = 1024 * 1024;

interface Peak {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
}

/** Passes a stream through, checking every chunk's size and sampling memory at each. */
function watched(stream: SnapshotStream, sizes: number[], peak: Peak): SnapshotStream {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const chunk of stream) {
        sizes.push(chunk.length);
        const m = process.memoryUsage();
        peak.rss = Math.max(peak.rss, m.rss);
        peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
        peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
        yield chunk;
      }
    },
  };
}

async function digest(stream: SnapshotStream): Promise<string> {
  const h = createHash('sha256');
  for await (const c of stream) h.update(c);
  return h.digest('hex');
}

test(`a state of ${MB} MB of values streams into another machine in chunks of at most ${SNAPSHOT_CHUNK_BYTES} bytes`, async () => {
  const source = new MachineHarness();
  // 1 MiB - 5 bytes (the most a value may hold is 1 MiB): values straddle chunk boundaries at a different offset each time.
  const value = new Uint8Array(MiB - 5);
  for (let i = 0; i < MB; i++) source.write(put(`big/${String(i).padStart(4, '0')}`, value.fill(i & 0xff)));
  for (let i = 0; i < 20_000; i++) source.write(put(`small/${i}`, { i }));

  // Taking and reading the snapshot alone (into a digest): what the stream itself holds.
  const read: number[] = [];
  const atRead = process.memoryUsage();
  const readPeak: Peak = { rss: atRead.rss, heapUsed: atRead.heapUsed, arrayBuffers: atRead.arrayBuffers };
  await digest(watched(source.machine.snapshot(), read, readPeak));
  expect(Math.max(...read)).toBeLessThanOrEqual(SNAPSHOT_CHUNK_BYTES);

  const sizes: number[] = [];
  const before = process.memoryUsage();
  const peak: Peak = { rss: before.rss, heapUsed: before.heapUsed, arrayBuffers: before.arrayBuffers };
  const started = performance.now();
  const target = new KvStateMachine();
  await target.restore(watched(source.machine.snapshot(), sizes, peak), { index: source.index, term: 1, voters: ['a'] });
  const ms = performance.now() - started;

  const total = sizes.reduce((a, b) => a + b, 0);
  expect(total).toBeGreaterThan(MB * (MiB - 5));
  expect(Math.max(...sizes)).toBeLessThanOrEqual(SNAPSHOT_CHUNK_BYTES);
  expect(sizes.length).toBe(Math.ceil(total / SNAPSHOT_CHUNK_BYTES));
  expect(target.size).toBe(source.machine.size);
  expect(await digest(target.snapshot())).toBe(await digest(source.machine.snapshot()));

  const mb = (n: number): string => (n / MiB).toFixed(0);
  console.log(
    `kv snapshot stream: ${mb(total)} MiB in ${sizes.length} chunks; read into a digest: peak rss +${mb(readPeak.rss - atRead.rss)} ` +
      `arrayBuffers +${mb(readPeak.arrayBuffers - atRead.arrayBuffers)} MiB; snapshot+restore ${ms.toFixed(0)} ms, ` +
      `before: rss ${mb(before.rss)} heap ${mb(before.heapUsed)} arrayBuffers ${mb(before.arrayBuffers)} MiB; ` +
      `peak: rss ${mb(peak.rss)} (+${mb(peak.rss - before.rss)}) heap ${mb(peak.heapUsed)} arrayBuffers ${mb(peak.arrayBuffers)} (+${mb(peak.arrayBuffers - before.arrayBuffers)}) MiB`,
  );
}, 60_000);
