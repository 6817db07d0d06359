// Kills a writing process with SIGKILL at random moments, again and again on one directory,
// and checks that every acknowledged save survived, intact and without a hole.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RocksLogStorage } from '../src/index.js';
import { payloadFor, termFor } from './fixtures/payload.mjs';
import { makeTempDir, removeDir } from './tempDir.js';
import { seededRandom } from '@raftkit/core';

const RUNS = 22;
const child = fileURLToPath(new URL('./fixtures/appender.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Run {
  readonly start: number;
  readonly acked: number;
}

/** Starts the child, waits for its first ack plus `delayMs`, then SIGKILLs it. */
function runAndKill(dir: string, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let start = -1;
    let acked = -1;
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'start') start = Number(n);
        if (word === 'ack') acked = Math.max(acked, Number(n));
        if (word === 'ack' && !timer) timer = setTimeout(() => proc.kill('SIGKILL'), delayMs);
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const watchdog = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || start < 0 || acked < 0) {
        reject(new Error(`child ended unexpectedly (code ${code}, signal ${signal}, start ${start}): ${stderr}`));
      } else {
        resolve({ start, acked });
      }
    });
  });
}

describe('crash safety (SIGKILL during writes)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(dist)) throw new Error('the crash test runs the built package: run `pnpm build` first');
    dir = await makeTempDir('raftkit-crash-');
  });
  afterAll(() => removeDir(dir));

  test(`${RUNS} kills at random moments lose no acknowledged entry and leave no hole`, async () => {
    const seed = (Math.random() * 2 ** 32) >>> 0;
    console.log(`crash test seed ${seed}`);
    const random = seededRandom(seed);
    let acked = 0;
    for (let run = 0; run < RUNS; run++) {
      const result = await runAndKill(dir, Math.floor(random() * 120));
      // Each run continues from what is durable: at least everything acknowledged before.
      expect(result.start, `run ${run} (seed ${seed}) restarted below an acknowledged index`).toBeGreaterThanOrEqual(acked);
      expect(result.acked).toBeGreaterThan(result.start);
      acked = result.acked;
    }

    const storage = await RocksLogStorage.open(dir, { verifyOnOpen: Infinity });
    const state = await storage.state();
    expect(state.firstIndex).toBe(1);
    expect(state.lastIndex).toBeGreaterThanOrEqual(acked);
    expect(state.hardState.commit).toBeGreaterThanOrEqual(acked);
    const entries = await storage.entries(1, state.lastIndex + 1);
    expect(entries).toHaveLength(state.lastIndex);
    entries.forEach((e, k) => {
      if (e.index !== k + 1 || e.term !== termFor(e.index) || !Buffer.from(e.data).equals(payloadFor(e.index))) {
        expect.fail(`entry ${k + 1} is wrong after crashes (seed ${seed})`);
      }
    });
    await storage.close();
  }, 120_000);
});
