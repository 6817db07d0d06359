// The CLI's configuration: bad flags, environment and config files exit 2 with a message that
// names the problem; good ones start a server, with flags > environment > file precedence.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ServerNode, cleanEnv, cliPath, freePorts, requireBuiltServer } from './helpers/cluster.js';
import { getKey, putJson } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI to completion (killed after 15 s: a bad config must not start a server), under
 * `launcher` if given (e.g. prlimit).
 */
function runCli(args: readonly string[], env: Record<string, string> = {}, launcher: readonly string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const [cmd, ...pre] = [...launcher, process.execPath];
    const child = spawn(cmd!, [...pre, cliPath, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let root: string;
beforeAll(() => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-server-config-'));
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const base = (id = 'n1') => ['--id', id, '--listen', '127.0.0.1:7001', '--data', join(root, 'never-created', id)];

describe('invalid configuration exits 2 with a clear message', () => {
  const cases: [string, () => string[], Record<string, string>, RegExp][] = [
    ['no arguments at all', () => [], {}, /--id is required[\s\S]*usage: raftkit-server/],
    ['missing --id', () => ['--listen', '127.0.0.1:7001', '--data', join(root, 'x')], {}, /--id is required/],
    ['an --id with a space', () => ['--id', 'n 1', '--listen', '127.0.0.1:7001', '--data', join(root, 'x')], {}, /--id is required: 1-64 letters/],
    ['missing --listen', () => ['--id', 'n1', '--data', join(root, 'x')], {}, /--listen must be HOST:PORT, got ""/],
    ['--listen without a port', () => ['--id', 'n1', '--listen', '127.0.0.1', '--data', join(root, 'x')], {}, /--listen must be HOST:PORT, got "127\.0\.0\.1"/],
    ['--listen with a port over 65535', () => ['--id', 'n1', '--listen', '127.0.0.1:70000', '--data', join(root, 'x')], {}, /--listen must be HOST:PORT/],
    ['--listen with a non-numeric port', () => ['--id', 'n1', '--listen', 'localhost:http', '--data', join(root, 'x')], {}, /--listen must be HOST:PORT/],
    ['missing --data', () => ['--id', 'n1', '--listen', '127.0.0.1:7001'], {}, /--data is required/],
    ['--peers listing this node', () => [...base(), '--peers', 'n1=http://127.0.0.1:7001,n2=http://127.0.0.1:7002'], {}, /--peers must not list this node \(n1\)/],
    ['--peers listing a node twice', () => [...base(), '--peers', 'n2=http://127.0.0.1:7002,n2=http://127.0.0.1:7003'], {}, /--peers lists n2 twice/],
    ['--peers entry without ID=', () => [...base(), '--peers', 'http://127.0.0.1:7002'], {}, /--peers entry "http:\/\/127\.0\.0\.1:7002" must be ID=URL/],
    ['--peers with a non-URL', () => [...base(), '--peers', 'n2=not a url'], {}, /"not a url" for n2 is not a URL/],
    ['--peers with a non-http URL', () => [...base(), '--peers', 'n2=ftp://127.0.0.1:7002'], {}, /n2 URL must be http\(s\), got ftp:/],
    ['--election-ticks equal to --heartbeat-ticks', () => [...base(), '--election-ticks', '3', '--heartbeat-ticks', '3'], {}, /--election-ticks \(3\) must be greater than --heartbeat-ticks \(3\)/],
    ['--election-ticks below --heartbeat-ticks', () => [...base(), '--election-ticks', '4', '--heartbeat-ticks', '5'], {}, /--election-ticks \(4\) must be greater than --heartbeat-ticks \(5\)/],
    ['a non-integer --tick-ms', () => [...base(), '--tick-ms', '2.5'], {}, /--tick-ms must be an integer in \[1, 60000\], got "2\.5"/],
    ['--tick-ms 0', () => [...base(), '--tick-ms', '0'], {}, /--tick-ms must be an integer in \[1, 60000\], got "0"/],
    ['--max-value-bytes that is not a number', () => [...base(), '--max-value-bytes', 'lots'], {}, /--max-value-bytes must be an integer/],
    ['an unknown --follower-mode', () => [...base(), '--follower-mode', 'proxy'], {}, /--follower-mode must be redirect or forward, got "proxy"/],
    ['an unknown --log-level', () => [...base(), '--log-level', 'loud'], {}, /--log-level "loud" is not a level/],
    ['a --secret shorter than 16 bytes', () => [...base(), '--secret', 'short'], {}, /--secret must be at least 16 bytes/],
    ['only some TLS flags', () => [...base(), '--tls-cert', 'c.pem'], {}, /TLS needs all of --tls-cert, --tls-key and --tls-ca/],
    ['an unknown option', () => [...base(), '--bogus', '1'], {}, /unknown option --bogus/],
    ['an option without its value', () => [...base(), '--tick-ms'], {}, /option --tick-ms needs a value/],
    ['a positional argument', () => [...base(), 'extra'], {}, /unexpected argument "extra"/],
    ['a bad value from the environment', () => base(), { RAFTKIT_ELECTION_TICKS: '1' }, /--election-ticks must be an integer in \[2, 10000\], got "1"/],
    ['a config file that does not exist', () => ['--config', join(root, 'missing.json')], {}, /cannot read config file .*missing\.json/],
    // Issue 9 item 10: a node given its own address for another node forwarded to itself for ever.
    ['--client-urls giving another node this node\'s own address', () => [...base(), '--peers', 'n2=http://127.0.0.1:7002', '--client-urls', 'n2=http://127.0.0.1:7001'], {}, /--client-urls gives n2 the URL http:\/\/127\.0\.0\.1:7001, which is this node's own --listen address 127\.0\.0\.1:7001/],
    ['--peers giving another node this node\'s own address (as localhost)', () => [...base(), '--peers', 'n2=http://localhost:7001/'], {}, /--peers gives n2 the URL http:\/\/localhost:7001, which is this node's own --listen address/],
    ['--client-urls pointing at a wildcard listener through loopback', () => ['--id', 'n1', '--listen', '0.0.0.0:7001', '--data', join(root, 'x'), '--peers', 'n2=http://10.9.9.9:7001', '--client-urls', 'n2=http://127.0.0.1:7001'], {}, /--client-urls gives n2 the URL http:\/\/127\.0\.0\.1:7001, which is this node's own --listen address 0\.0\.0\.0:7001/],
    ['a --max-client-connections that is not a number', () => [...base(), '--max-client-connections', 'many'], {}, /--max-client-connections must be an integer in \[1, 1000000\], got "many"/],
    ['--max-inflight-requests 0', () => [...base(), '--max-inflight-requests', '0'], {}, /--max-inflight-requests must be an integer in \[1, 1000000\], got "0"/],
    ['a negative --ready-max-lag', () => [...base(), '--ready-max-lag', '-1'], {}, /--ready-max-lag must be an integer in \[0, 1000000000\], got "-1"/],
  ];

  test.each(cases)('%s', async (_name, args, env, message) => {
    const r = await runCli(args(), env);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^raftkit-server: /);
    expect(r.code).toBe(2);
  });

  test('a config file with malformed JSON, one that is not an object, and one with an unknown key', async () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"id": "n1",');
    const notObject = join(root, 'array.json');
    writeFileSync(notObject, '["--id", "n1"]');
    const unknownKey = join(root, 'unknown.json');
    writeFileSync(unknownKey, JSON.stringify({ id: 'n1', listen: '127.0.0.1:7001', data: join(root, 'x'), tickMs: 20 }));
    const [r1, r2, r3] = await Promise.all([runCli(['--config', bad]), runCli(['--config', notObject]), runCli(['--config', unknownKey])]);
    expect(r1.stderr).toMatch(/cannot read config file .*bad\.json/);
    expect(r2.stderr).toMatch(/config file .*array\.json must hold a JSON object/);
    expect(r3.stderr).toMatch(/config file .*unknown\.json: unknown key "tickMs"/);
    expect([r1.code, r2.code, r3.code]).toEqual([2, 2, 2]);
  });

  // Issue 9 item 4: the connection cap must fit the process's file-descriptor limit.
  test('a file-descriptor limit too low for a node, or a --max-client-connections over it', async () => {
    const peers = ['--peers', 'n2=http://127.0.0.1:7002,n3=http://127.0.0.1:7003'];
    const [low, over] = await Promise.all([
      runCli([...base(), ...peers], {}, ['prlimit', '--nofile=100:100']),
      runCli([...base(), ...peers, '--max-client-connections', '1000'], {}, ['prlimit', '--nofile=512:512']),
    ]);
    expect(low.stderr).toMatch(/raftkit-server: the file-descriptor limit \(ulimit -n\) is 100, too low for a node with 2 peers: it needs at least \d+/);
    expect(over.stderr).toMatch(/raftkit-server: --max-client-connections 1000 needs about \d+ file descriptors .*over this process's limit of 512 \(ulimit -n\)/);
    expect([low.code, over.code]).toEqual([2, 2]);
  });

  test('no invalid configuration created its data directory', () => {
    expect(existsSync(join(root, 'never-created'))).toBe(false);
    expect(existsSync(join(root, 'x'))).toBe(false);
  });
});

test('--help prints the usage with every option and exits 0', async () => {
  const r = await runCli(['--help']);
  expect(r.code).toBe(0);
  for (const flag of ['--id', '--listen', '--peers', '--data', '--secret', '--follower-mode', '--tick-ms', '--election-ticks', '--heartbeat-ticks', '--snapshot-every', '--max-value-bytes', '--request-timeout-ms', '--log-level', '--tls-cert', '--max-client-connections', '--max-inflight-requests', '--ready-max-lag']) {
    expect(r.stdout).toContain(flag);
  }
});

describe('a single node configured from a file, the environment and flags', () => {
  let node: ServerNode | undefined;
  let blocker: Server | undefined;
  afterAll(async () => {
    await node?.kill('SIGKILL');
    await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
  });

  test('starts with flags > environment > file, serves writes, refuses a second server on its data dir, and exits 0 on SIGTERM', async () => {
    const [port] = await freePorts(1);
    const file = join(root, 'single.json');
    const fileData = join(root, 'from-file');
    const envData = join(root, 'from-env');
    writeFileSync(file, JSON.stringify({ id: 'from-file', listen: `127.0.0.1:${port}`, data: fileData, peers: {}, 'tick-ms': 20, 'election-ticks': 10, 'heartbeat-ticks': 2 }));
    const flagData = join(root, 'from-flag');
    node = new ServerNode('single', port!, root, ['--config', file, '--data', flagData], cleanEnv({ RAFTKIT_ID: 'from-env', RAFTKIT_DATA: envData }));
    node.start();
    const status = await waitFor('the single node to lead', async () => {
      const s = await node!.status();
      return s?.role === 'leader' ? s : null;
    });
    expect(status.id).toBe('from-env');
    expect(status.peers).toEqual({});
    expect(existsSync(flagData)).toBe(true);
    expect(existsSync(envData)).toBe(false);
    expect(existsSync(fileData)).toBe(false);
    // --fast-jit is on by default: the CLI set its V8 flags before loading the server, and says so.
    expect(readFileSync(node.logPath, 'utf8')).toContain('"v8Flags":["--interrupt-budget=1000","--minimum-invocations-after-ic-update=50"]');

    const put = await putJson(node.url, 'solo', { n: 1 });
    expect(put.status).toBe(200);
    const got = await getKey(node.url, 'solo');
    expect(got.json).toMatchObject({ key: 'solo', value: { n: 1 }, modRevision: put.json.revision });

    // RocksDB locks its directory: a second process on the same data must fail to start.
    const [port2] = await freePorts(1);
    const second = await runCli(['--id', 'from-env', '--listen', `127.0.0.1:${port2}`, '--data', flagData]);
    expect(second.code).toBe(1);
    // Start errors print their code first (RAFT_STORAGE_FAILED) since the WAL-damage work.
    // One line that says what holds the directory (issue 13 item 8), not RocksDB's "IO error: While lock file".
    expect(second.stderr.trim().split('\n')).toEqual([
      `raftkit-server: failed to start: RAFT_STORAGE_FAILED: rocksdb log storage: data directory ${join(flagData, 'raft')} is locked by another process (pid ${node.pid}): it is open elsewhere, for example by another server started with the same data directory. Stop that process, or give this one a data directory of its own`,
    ]);
    expect((await getKey(node.url, 'solo')).status).toBe(200);

    const exit = await node.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
  });

  test('a port that is already taken exits 1 with the listen error', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const r = await runCli(['--id', 'n1', '--listen', `127.0.0.1:${port}`, '--data', join(root, 'taken')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/raftkit-server: failed to start: .*EADDRINUSE/);
  });
});
