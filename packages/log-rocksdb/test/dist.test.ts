// The built package (tsup: ESM and CJS) finds its write worker from dist in both formats: a
// program importing it by name opens, saves, closes and reads back. Runs the built dist.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { makeTempDir, removeDir } from './tempDir.js';

const dist = ['index.js', 'index.cjs', 'writeWorker.cjs'].map((f) => fileURLToPath(new URL(`../dist/${f}`, import.meta.url)));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('raftkit-dist-');
});
afterEach(() => removeDir(dir));

/** Runs a fixture from an unrelated working directory, so nothing resolves from the cwd. */
async function run(file: string, mode: string): Promise<Record<string, unknown>> {
  for (const f of dist) if (!existsSync(f)) throw new Error(`${f} is missing: run \`pnpm build\` first`);
  const { stdout } = await promisify(execFile)(process.execPath, [fixture(file), dir, mode], { cwd: dir, timeout: 20_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe.each([
  ['ESM', 'distSmoke.mjs', 'esm'],
  ['CJS', 'distSmoke.cjs', 'cjs'],
])('the %s build', (_format, file, tag) => {
  test('opens, saves through its worker, closes and reopens with the data', async () => {
    const out = await run(file, 'cycle');
    expect(out).toMatchObject({ lastIndex: 3, commit: 3, data: `${tag} 3`, syncedBatches: 1 });
    expect(out.writer).not.toBe(out.main);
    expect(out.writer).toBeGreaterThan(0);
  });

  test('a pending save keeps the process alive until durable; an idle, unclosed storage does not', async () => {
    // execFile resolves only once the child exits by itself (the timeout would reject).
    expect(await run(file, 'noclose')).toEqual({ saved: 1 });
  });
});
