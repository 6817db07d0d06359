// Server processes for the membership benchmarks, which restart nodes and add new ones (the
// shared cluster.mjs only starts and stops a fixed cluster): the built dist/cli.js on
// 127.0.0.1, one scratch directory, every process killed on exit.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function getJson(url, timeoutMs = 2000) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

/** Polls `probe` every `intervalMs` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor(what, probe, { timeoutMs = 30_000, intervalMs = 10 } = {}) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** One server process that can be stopped and started again on the same data directory. */
class Node {
  constructor(root, id, port, args) {
    this.id = id;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.logPath = join(root, `${id}.log`);
    this.args = ['--id', id, '--listen', `127.0.0.1:${port}`, '--data', join(root, id), ...args];
    this.child = null;
    this.exited = Promise.resolve({ code: null, signal: null });
  }

  start() {
    if (this.child) throw new Error(`${this.id} already runs`);
    const log = openSync(this.logPath, 'a');
    const child = spawn(process.execPath, [cli, ...this.args], { stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        resolve({ code, signal });
      }),
    );
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it is still there. */
  async stop(signal = 'SIGTERM', graceMs = 15_000) {
    const child = this.child;
    if (!child) return { code: null, signal: null };
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  status() {
    return getJson(`${this.url}/v1/status`);
  }

  logTail(lines = 8) {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8').trim().split('\n').slice(-lines).join('\n') : '';
  }
}

/**
 * A cluster of `size` bootstrap nodes (n1..nN, --peers of each other) plus whatever `add()`
 * starts later. `args` go to every node.
 */
export async function startNodes({ prefix, size = 3, args = [] }) {
  if (!existsSync(cli)) {
    console.error(`bench runs the built server, but ${cli} is missing: run \`pnpm build\` first`);
    process.exit(1);
  }
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), prefix));
  const ports = await freePorts(size);
  const ids = ports.map((_, i) => `n${i + 1}`);
  const nodes = ids.map((id, i) => {
    const peers = ids.filter((p) => p !== id).map((p) => `${p}=http://127.0.0.1:${ports[ids.indexOf(p)]}`).join(',');
    return new Node(root, id, ports[i], ['--peers', peers, '--log-level', 'warn', ...args]);
  });
  for (const n of nodes) n.start();

  let stopping = null;
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      if (process.env.KEEP_BENCH_DATA) console.log(`kept ${root}`);
      else rmSync(root, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop().then(() => process.exit(130)));
  process.on('exit', () => nodes.forEach((n) => n.child?.kill('SIGKILL')));

  /** Starts a node that is not a bootstrap member (e.g. `--join URL`). */
  const add = async (id, extraArgs) => {
    const [port] = await freePorts(1);
    const n = new Node(root, id, port, ['--log-level', 'warn', ...args, ...extraArgs]);
    nodes.push(n);
    n.start();
    return n;
  };

  /** The leader, once a majority of the running nodes follow it in its term. */
  const leader = (timeoutMs = 30_000) =>
    waitFor('a leader', async () => {
      const running = nodes.filter((n) => n.child);
      const all = await Promise.all(running.map(async (n) => ({ n, s: await n.status() })));
      const lead = all.find(({ s }) => s?.role === 'leader');
      if (!lead) return null;
      const followers = all.filter(({ s }) => s?.leader === lead.n.id && s.term === lead.s.term).length;
      return followers >= Math.floor(size / 2) + 1 ? { node: lead.n, term: lead.s.term, status: lead.s } : null;
    }, { timeoutMs, intervalMs: 25 });

  return { root, nodes, add, leader, stop };
}

/**
 * `count` PUTs of the JSON `value` to `${url}/v1/kv/${prefix}/0..`, `concurrency` at a time
 * (following a redirect if the leader moved), each retried up to 5 times; returns how many failed.
 */
export async function fill(url, prefix, count, value, concurrency) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      for (let tries = 0; ; tries++) {
        const r = await fetch(`${url}/v1/kv/${prefix}/${i}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: value, redirect: 'follow' }).catch(() => null);
        await r?.arrayBuffer();
        if (r?.ok) break;
        if (tries >= 5) {
          failed++;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

/** p-th percentile (0-100) of a list of numbers, nearest rank. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
