// Kills a process with SIGKILL at random moments while it writes, installs and receives
// snapshots and compacts, again and again on one directory; after each kill the reopened
// storage must hold the old or the new snapshot, intact, and a log that obeys the install rule.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RocksLogStorage } from '../src/index.js';
import { SNAPSHOT_DIR, parseName } from '../src/snapshotFiles.js';
import { entryBytesFor, sha256, snapshotBytesFor } from './fixtures/snapshotPayload.mjs';
import { makeTempDir, removeDir } from './tempDir.js';
import { seededRandom } from '@raftkit/core';

const RUNS = 24;
const child = fileURLToPath(new URL('./fixtures/snapshotter.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Acked {
  /** The last snapshot whose install was acknowledged. */
  installed: { index: number; term: number } | null;
  /** The last index acknowledged since then. */
  lastIndex: number;
  compacted: number;
  resumes: number;
}

/** Runs the child until its first line plus `delayMs`, SIGKILLs it, and returns what it acknowledged. */
function runAndKill(dir: string, seed: number, delayMs: number, acked: Acked): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, a, b] = line.split(' ');
        if (word === 'start') timer ??= setTimeout(() => proc.kill('SIGKILL'), delayMs);
        if (word === 'ack') acked.lastIndex = Number(a);
        if (word === 'installed') acked.installed = { index: Number(a), term: Number(b) };
        if (word === 'compacted') acked.compacted = Number(a);
        if (word === 'resumed') acked.resumes++;
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const watchdog = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child ended unexpectedly (code ${code}, signal ${signal}): ${stderr}`));
      else resolve();
    });
  });
}

/** Checks the reopened storage against what was acknowledged before the kill. */
async function check(dir: string, acked: Acked, where: string): Promise<void> {
  const storage = await RocksLogStorage.open(dir, { verifyOnOpen: Infinity });
  try {
    const state = await storage.state();
    const snap = state.snapshot;
    if (acked.installed) {
      expect(snap, `${where}: snapshot lost`).not.toBeNull();
      expect(snap!.index, `${where}: an older snapshot than the acknowledged one`).toBeGreaterThanOrEqual(acked.installed.index);
      // The acknowledged one, or one whose install was cut by the kill: both are valid.
      if (snap!.index === acked.installed.index) {
        expect(snap!.term).toBe(acked.installed.term);
        expect(state.lastIndex, `${where}: acknowledged entries lost`).toBeGreaterThanOrEqual(acked.lastIndex);
        expect(state.firstIndex - 1, `${where}: acknowledged compaction lost`).toBeGreaterThanOrEqual(acked.compacted);
      }
    }
    if (!snap) {
      expect(await storage.openSnapshot()).toBeNull();
      expect(state.firstIndex).toBe(1);
    } else {
      const reader = (await storage.openSnapshot())!;
      const chunks: Uint8Array[] = [];
      for await (const c of reader.stream(0, 50_000)) chunks.push(c);
      const bytes = Buffer.concat(chunks);
      await reader.close();
      expect(reader.meta.index).toBe(snap.index);
      expect(sha256(bytes), `${where}: snapshot bytes do not match their checksum`).toBe(reader.checksum);
      expect(bytes.equals(snapshotBytesFor(snap.index, snap.term)), `${where}: snapshot ${snap.index} holds other bytes`).toBe(true);
      // Rule 3: the log starts at or below the snapshot and holds it (or starts right after it).
      expect(state.firstIndex - 1).toBeLessThanOrEqual(snap.index);
      expect(state.lastIndex).toBeGreaterThanOrEqual(snap.index);
      expect(await storage.term(snap.index)).toBe(snap.term);
      if (state.firstIndex > 1) expect(await storage.term(state.firstIndex - 1)).toBeGreaterThan(0);
    }
    const entries = await storage.entries(state.firstIndex, state.lastIndex + 1);
    entries.forEach((e, k) => {
      if (e.index !== state.firstIndex + k || !Buffer.from(e.data).equals(entryBytesFor(e.index, e.term))) {
        expect.fail(`${where}: entry ${state.firstIndex + k} is wrong`);
      }
      if (k > 0 && e.term < entries[k - 1]!.term) expect.fail(`${where}: terms decrease at ${e.index}`);
    });
    // Only the installed file and received ones above it survive an open.
    const names = await readdir(join(dir, SNAPSHOT_DIR));
    const at = snap?.index ?? 0;
    for (const name of names) {
      const p = parseName(name);
      const ok = p !== null && (p.index > at ? p.kind === 'recv' : p.finished && p.index === at);
      expect(ok, `${where}: stray snapshot file ${name}`).toBe(true);
    }
    expect(names.filter((n) => parseName(n)?.index === at).length, `${where}: files of the installed snapshot`).toBe(snap ? 1 : 0);
    if (snap) acked.installed = { index: snap.index, term: snap.term };
    acked.lastIndex = state.lastIndex;
    acked.compacted = state.firstIndex - 1;
  } finally {
    await storage.close();
  }
}

describe('crash safety of snapshots (SIGKILL while installing and compacting)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(dist)) throw new Error('the crash test runs the built package: run `pnpm build` first');
    dir = await makeTempDir('raftkit-snapcrash-');
  });
  afterAll(() => removeDir(dir));

  test(`${RUNS} kills leave the old or the new snapshot, intact, and a log that agrees with it`, async () => {
    const seed = Number(process.env.SNAPSHOT_CRASH_SEED ?? (Math.random() * 2 ** 32) >>> 0);
    console.log(`snapshot crash test seed ${seed}`);
    const random = seededRandom(seed);
    const acked: Acked = { installed: null, lastIndex: 0, compacted: 0, resumes: 0 };
    let installs = 0;
    for (let run = 0; run < RUNS; run++) {
      const before = acked.installed;
      await runAndKill(dir, (random() * 2 ** 32) >>> 0, 20 + Math.floor(random() * 300), acked);
      if (acked.installed !== before) installs++;
      await check(dir, acked, `run ${run} (seed ${seed})`);
    }
    console.log(`snapshot crash test: ${installs} runs installed a snapshot, ${acked.resumes} received snapshots resumed`);
    expect(installs, 'the kills should land after some installs').toBeGreaterThan(RUNS / 4);
  }, 120_000);
});
