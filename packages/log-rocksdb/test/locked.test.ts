// A data directory another process (or another open in this one) holds: one coded error that
// says so and names the holder, not abstract-level's "Database is not open" (issue 13 item 8).
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { ErrorCode, RaftError } from '@raftkit/core';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { RocksLogStorage } from '../src/index.js';
import { makeTempDir, removeDir } from './tempDir.js';

let dir: string;
let child: ChildProcess | null = null;
beforeEach(async () => {
  dir = await makeTempDir('raftkit-locked-');
});
afterEach(async () => {
  child?.kill('SIGKILL');
  child = null;
  await removeDir(dir);
});

async function openError(location: string): Promise<RaftError> {
  const err = await RocksLogStorage.open(location).then(
    (s) => s.close().then(() => null),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RaftError);
  return err as RaftError;
}

test('a directory open in another process: RAFT_STORAGE_FAILED naming the directory and the pid', async () => {
  await (await RocksLogStorage.open(dir)).close();
  // The holder opens the database with RocksDB itself and says when it holds the lock.
  const rocks = createRequire(import.meta.url).resolve('@nxtedition/rocksdb');
  const script = `const { RocksLevel } = require(${JSON.stringify(rocks)});
    new RocksLevel(${JSON.stringify(dir)}).open().then(() => console.log('open'), (e) => { console.error(e); process.exit(1); });
    setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  child = holder;
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
    holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });

  const err = await openError(dir);
  expect(err.code).toBe(ErrorCode.StorageFailed);
  expect(err.message).toBe(
    `rocksdb log storage: data directory ${dir} is locked by another process (pid ${holder.pid}): it is open ` +
      'elsewhere, for example by another server started with the same data directory. Stop that ' +
      'process, or give this one a data directory of its own',
  );
});

test('a directory opened twice in one process: the same error, naming this process', async () => {
  const first = await RocksLogStorage.open(dir);
  try {
    const err = await openError(dir);
    expect(err.code).toBe(ErrorCode.StorageFailed);
    expect(err.message).toMatch(new RegExp(`^rocksdb log storage: data directory ${dir} is locked by another process \\(pid ${process.pid}: this process opened it twice\\)`));
  } finally {
    await first.close();
  }
  // Once the first closes, the directory opens again.
  await (await RocksLogStorage.open(dir)).close();
});
