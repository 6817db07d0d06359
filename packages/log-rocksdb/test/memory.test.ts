// Memory stays bounded however much passes through the storage (issue 9 item 5: a server grew
// 4-5 KB of RSS per write, never returned, because every batch stayed attached to the database).
// Measured in a child process on the built package, so the figure is the storage's own.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { makeTempDir, removeDir } from './tempDir.js';

const child = fileURLToPath(new URL('./fixtures/memoryGrowth.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const PUSHED_MIB = 512;

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeDir(dir));

test(`pushing ${PUSHED_MIB} MiB through the storage grows its RSS by far less than that`, async () => {
  if (!existsSync(dist)) throw new Error('the memory test runs the built package: run `pnpm build` first');
  const { stdout } = await promisify(execFile)(process.execPath, [child, dist, dir, String(PUSHED_MIB)]);
  const { growth } = JSON.parse(stdout) as { growth: number };
  // Measured: ~190 MiB with the fix (memtables and allocator caches, bounded), ~760 MiB before
  // it (every byte written was retained). The bound sits well between the two.
  expect(growth).toBeLessThan(PUSHED_MIB * 0.75);
});
