// Backup and restore with real processes: POST /v1/snapshot takes one, GET /v1/snapshot streams
// it as a backup file, `raftkit-server restore` seeds a brand-new single-node cluster from the
// file (refusing a damaged one), and the new node serves every key of the backup.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cleanEnv, cliPath } from './helpers/cluster.js';
import { putJson, rangeAll, send } from './helpers/http.js';
import { clusterWithExtras, newNode, roles, waitForMembers } from './helpers/members.js';

const { cluster: clusterOf, extra } = clusterWithExtras();

function runRestore(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, 'restore', ...args], { encoding: 'utf8', env: cleanEnv(), timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a backup from GET /v1/snapshot restores into a new cluster that serves every key of it', async () => {
  const cluster = clusterOf();
  const leader = await cluster.leader();
  const written = new Map<string, number>();
  for (let i = 0; i < 40; i++) {
    const r = await putJson(leader.url, `bk/${i}`, { i, pad: 'x'.repeat(200) });
    expect(r.status).toBe(200);
    written.set(`bk/${i}`, r.json.revision);
  }
  const follower = cluster.nodes.find((n) => n !== leader)!;
  await cluster.caughtUp(follower, Math.max(...written.values()));

  // No snapshot yet on a fresh node is a coded 404; POST takes one, on a follower too.
  const taken = await send(`${follower.url}/v1/snapshot`, { method: 'POST' });
  expect(taken.status, taken.text).toBe(200);
  expect(taken.json.index).toBeGreaterThanOrEqual(Math.max(...written.values()));
  expect(taken.json.checksum).toMatch(/^[0-9a-f]{64}$/);

  const res = await fetch(`${follower.url}/v1/snapshot`);
  expect(res.status).toBe(200);
  const file = Buffer.from(await res.arrayBuffer());
  expect(res.headers.get('x-raftkit-snapshot-sha256')).toBe(taken.json.checksum);
  expect(Number(res.headers.get('content-length'))).toBe(file.length);
  const lines = file.subarray(0, 4096).toString('latin1').split('\n');
  expect(lines[0]).toBe('raftkit-snapshot 1');
  const header = JSON.parse(lines[1]!) as { index: number; size: number; checksum: string };
  const data = file.subarray(file.length - header.size);
  expect(createHash('sha256').update(data).digest('hex')).toBe(header.checksum);
  const dir = join(cluster.root, 'backups');
  mkdirSync(dir, { recursive: true });
  const backup = join(dir, 'good.snap');
  writeFileSync(backup, file);
  await cluster.killAll('SIGKILL');

  // Refusals: a flipped byte, a truncated file, a data directory that holds a log already.
  const flipped = Buffer.from(file);
  flipped[flipped.length - 10]! ^= 0xff;
  writeFileSync(join(dir, 'flipped.snap'), flipped);
  const bad = runRestore(['--from', join(dir, 'flipped.snap'), '--data', join(cluster.root, 'r-bad'), '--id', 'r1']);
  expect([bad.status, bad.stderr]).toEqual([1, expect.stringContaining('RAFT_SNAPSHOT_CORRUPT')]);
  writeFileSync(join(dir, 'short.snap'), file.subarray(0, file.length - 100));
  const short = runRestore(['--from', join(dir, 'short.snap'), '--data', join(cluster.root, 'r-short'), '--id', 'r1']);
  expect([short.status, short.stderr]).toEqual([1, expect.stringContaining('SERVER_BAD_BACKUP')]);
  const occupied = runRestore(['--from', backup, '--data', follower.dataDir, '--id', 'r1']);
  expect([occupied.status, occupied.stderr]).toEqual([1, expect.stringContaining('already holds a log')]);
  const noId = runRestore(['--from', backup, '--data', join(cluster.root, 'r-x')]);
  expect(noId.status).toBe(2);

  const r1 = await newNode(cluster, 'r1', []);
  extra.push(r1);
  const done = runRestore(['--from', backup, '--data', r1.dataDir, '--id', 'r1', '--url', r1.url]);
  expect(done.status, done.stderr).toBe(0);
  r1.start();
  expect(roles(await waitForMembers(r1.url, { r1: 'voter' }))).toEqual({ r1: 'voter' });
  const seen = await rangeAll(r1.url, 'bk/');
  expect(new Map([...seen].map(([k, v]) => [k, v.modRevision]))).toEqual(written);
  expect(readFileSync(r1.logPath, 'utf8')).toContain('membership comes from it');
  const after = await putJson(r1.url, 'bk/after', 'new cluster');
  expect(after.status).toBe(200);
  expect(after.json.revision).toBeGreaterThan(Math.max(...written.values()));
});
