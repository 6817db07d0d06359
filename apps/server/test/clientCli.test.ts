// The raftkit CLI and @raftkit/client against real raftkit-server processes (a 3-node cluster,
// forward mode): the built `packages/client/dist/cli.js` run with execFile, its output, files
// and exit codes; and writes in flight while the leader is SIGKILLed, each applied exactly once.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RaftkitClient } from '@raftkit/client';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Cluster, cleanEnv, freePorts } from './helpers/cluster.js';
import { getKey } from './helpers/http.js';

const raftkitCli = join(dirname(createRequire(import.meta.url).resolve('@raftkit/client/package.json')), 'dist', 'cli.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function raftkit(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [raftkitCli, ...args], { env: cleanEnv(env), timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let cluster: Cluster;
let endpoints = '';
let scratch = '';
beforeAll(async () => {
  if (!existsSync(raftkitCli)) throw new Error(`${raftkitCli} is missing: run "pnpm build" in packages/client`);
  cluster = await Cluster.start();
  endpoints = cluster.nodes.map((n) => n.url).join(',');
  scratch = mkdtempSync(join(tmpdir(), 'raftkit-cli-test-'));
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(async () => {
  await cluster?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('put, get, get --prefix, del: what a shell script sees', async () => {
  expect(await raftkit(['put', 'cli/a', 'hello', '--endpoints', endpoints])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
  expect((await raftkit(['put', 'cli/b', '{"n":2}', '--json-value'], { RAFTKIT_ENDPOINTS: endpoints })).code).toBe(0);
  expect(await raftkit(['get', 'cli/a', '--endpoints', endpoints])).toEqual({ code: 0, stdout: 'cli/a\nhello\n', stderr: '' });
  expect((await raftkit(['get', 'cli/', '--prefix', '--endpoints', endpoints])).stdout).toBe('cli/a\nhello\ncli/b\n{"n":2}\n');
  const got = JSON.parse((await raftkit(['get', 'cli/b', '--json', '--consistency', 'stale', '--endpoints', endpoints])).stdout);
  expect(got).toMatchObject({ key: 'cli/b', value: { n: 2 } });
  // Stored as the server stores it: curl sees the same.
  expect((await getKey(cluster.nodes[2]!.url, 'cli/b')).json).toMatchObject({ value: { n: 2 }, modRevision: got.modRevision });
  expect(await raftkit(['del', 'cli/a', '--endpoints', endpoints])).toEqual({ code: 0, stdout: '1\n', stderr: '' });
  expect(await raftkit(['get', 'cli/a', '--endpoints', endpoints])).toEqual({ code: 0, stdout: '', stderr: '' });
});

test('endpoint status --json and member list', async () => {
  const status = await raftkit(['endpoint', 'status', '--json', '--endpoints', endpoints]);
  expect(status.code, status.stderr).toBe(0);
  const reports = JSON.parse(status.stdout) as { endpoint: string; ok: boolean; result: { id: string; role: string; leader: string } }[];
  expect(reports.map((r) => [r.endpoint, r.ok, r.result.id])).toEqual(cluster.nodes.map((n) => [n.url, true, n.id]));
  expect(reports.filter((r) => r.result.role === 'leader')).toHaveLength(1);
  expect(new Set(reports.map((r) => r.result.leader)).size).toBe(1);

  const table = await raftkit(['member', 'list', '--endpoints', endpoints]);
  expect(table.code, table.stderr).toBe(0);
  const lines = table.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^ID\s+ROLE\s+URL\s+LEADER$/);
  expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual(cluster.nodes.map((n) => [n.id, 'voter', n.url]));
  const leader = reports.find((r) => r.result.role === 'leader')!.result.id;
  expect(lines.find((l) => l.startsWith(`${leader} `))).toMatch(/yes$/);
});

test('snapshot save FILE writes a backup file (the raftkit-snapshot 1 format), fsync\'d and complete', async () => {
  for (let i = 0; i < 20; i++) expect((await raftkit(['put', `snap/${i}`, `v${i}`, '--endpoints', endpoints])).code).toBe(0);
  const file = join(scratch, 'backup.snap');
  const r = await raftkit(['snapshot', 'save', file, '--endpoints', endpoints]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^Snapshot saved at .*backup\.snap \(index \d+/);
  const bytes = readFileSync(file);
  const [magic, headerLine] = bytes.subarray(0, 4096).toString('latin1').split('\n');
  expect(magic).toBe('raftkit-snapshot 1');
  const header = JSON.parse(headerLine!) as { index: number; size: number; checksum: string };
  expect(header.index).toBeGreaterThanOrEqual(20);
  expect(bytes.length).toBe(magic!.length + 1 + headerLine!.length + 1 + header.size);
  expect(existsSync(join(scratch, '.backup.snap.part'))).toBe(false);
});

test('usage errors exit 2, no reachable endpoint exits 3, --help exits 0', async () => {
  const usage = await raftkit(['put']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/^Error: CLIENT_USAGE: /);
  expect((await raftkit(['nonsense', 'words'])).code).toBe(2);
  const [port] = await freePorts(1);
  const down = await raftkit(['get', 'k', '--endpoints', `http://127.0.0.1:${port}`, '--timeout', '1s']);
  expect(down.code).toBe(3);
  expect(down.stderr).toMatch(/^Error: CLIENT_UNAVAILABLE: /);
  const help = await raftkit(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('exit codes:');
});

test('the leader SIGKILLed: a CLI put succeeds through another endpoint, and writes in flight apply exactly once', async () => {
  const leader = await cluster.leader();
  const others = cluster.nodes.filter((n) => n !== leader);
  const ordered = [leader, ...others].map((n) => n.url);
  // Library writes in flight as the leader dies: a CAS on an absent key applied twice would
  // answer its retry ok: false, so every ok: true is a write applied once.
  const casSentTo: string[] = [];
  const client = new RaftkitClient({ endpoints: ordered, timeoutMs: 20_000, fetch: (url, init) => {
    if (url.includes('/cas')) casSentTo.push(new URL(url).origin);
    return fetch(url, init);
  } });
  await client.put('failover/warm', 1); // the session is open and the leader known before the kill
  const inFlight = Array.from({ length: 20 }, (_, i) => client.cas(`failover/${i}`, null, i));
  leader.signal('SIGKILL');
  // The CLI is given the dead leader first.
  const put = await raftkit(['put', 'failover/cli', 'after', '--endpoints', ordered.join(','), '--timeout', '20s']);
  expect(put, put.stderr).toMatchObject({ code: 0, stdout: 'OK\n' });
  const results = await Promise.all(inFlight);
  expect(results.map((r) => r.ok)).toEqual(results.map(() => true));
  // The kill was sent before any of them left this process: each one was first sent to the
  // dead leader, then again, with its tag, to another node.
  expect(casSentTo.slice(0, 20)).toEqual(casSentTo.slice(0, 20).map(() => leader.url));
  expect(casSentTo.filter((u) => u !== leader.url).length).toBeGreaterThanOrEqual(20);
  await leader.exit();
  const survivor = others[0]!.url;
  for (let i = 0; i < 20; i++) {
    const r = await getKey(survivor, `failover/${i}`);
    expect(r.json).toMatchObject({ value: i, modRevision: results[i]!.revision });
  }
  expect((await raftkit(['get', 'failover/cli', '--print-value-only', '--endpoints', others.map((n) => n.url).join(',')])).stdout).toBe('after\n');
  leader.start();
  await cluster.waitHealthy(leader);
});

test('the leader SIGSTOPped under tagged writes: each applies once, also after the old leader wakes with them in its buffers', async () => {
  const leader = await cluster.leader();
  const others = cluster.nodes.filter((n) => n !== leader);
  // Short attempts: a request to the paused node is given up after 1 s and sent elsewhere with its tag.
  const client = new RaftkitClient({ endpoints: [leader, ...others].map((n) => n.url), attemptTimeoutMs: 1000, timeoutMs: 30_000 });
  await client.put('pause/warm', 0);
  leader.signal('SIGSTOP');
  let results: { revision: number }[];
  try {
    results = await Promise.all(Array.from({ length: 10 }, (_, i) => client.put(`pause/${i}`, i)));
  } finally {
    leader.signal('SIGCONT');
  }
  // The woken node reads the requests it holds and proposes or forwards them (tagged as sent):
  // they must not apply again. A write through it afterwards, then every node caught up to it.
  const after = new RaftkitClient({ endpoints: [leader.url] });
  const last = await after.put('pause/after', 'x');
  for (const n of cluster.nodes) await cluster.caughtUp(n, last.revision);
  for (let i = 0; i < 10; i++) {
    const r = await getKey(others[0]!.url, `pause/${i}`);
    // Applied twice, the key's modRevision would be the second application's.
    expect(r.json).toMatchObject({ value: i, modRevision: results[i]!.revision });
  }
});

