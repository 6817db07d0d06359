/**
 * Real raftkit-server processes (the built dist/cli.js) on 127.0.0.1, each with its own data
 * directory under one temp root. Every process started here is SIGKILLed by `stop()`, and by
 * an exit hook should a test file die before its afterAll runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { send } from './http.js';
import { waitFor, type WaitOptions } from './poll.js';

export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** The tests run the built server; fail clearly when it is not there. */
export function requireBuiltServer(): void {
  if (!existsSync(cliPath)) {
    throw new Error(`the server tests run the built CLI, but ${cliPath} is missing: run "pnpm build" in apps/server (the root "pnpm test" builds everything first)`);
  }
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The environment without any RAFTKIT_* settings of the caller's shell. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RAFTKIT_')) env[k] = v;
  return { ...env, ...extra };
}

/** `n` distinct ports that were free a moment ago (the kernel picks them: listen on port 0). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      ports.push((s.address() as { port: number }).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface NodeStatus {
  id: string;
  role: string;
  term: number;
  leader: string | null;
  leaderUrl: string | null;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  running: boolean;
  peers: Record<string, { url: string; match: number | null; lag: number | null; backoffMs: number }>;
}

/** One server process; `start()` may be called again after it exited (a restart). */
export class ServerNode {
  readonly url: string;
  readonly dataDir: string;
  readonly logPath: string;
  private child: ChildProcess | null = null;
  private exited: Promise<Exit> | null = null;

  constructor(
    readonly id: string,
    readonly port: number,
    root: string,
    private readonly args: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
    /** A command the server runs under, e.g. ['prlimit', '--nofile=256:256']; none by default. */
    private readonly launcher: readonly string[] = [],
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.dataDir = join(root, id);
    this.logPath = join(root, `${id}.log`);
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error(`${this.id} is not running`);
    return this.child.pid;
  }

  start(): void {
    if (this.child) throw new Error(`${this.id} is already running`);
    const log = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      const [cmd, ...pre] = [...this.launcher, process.execPath];
      child = spawn(cmd!, [...pre, cliPath, ...this.args], { stdio: ['ignore', log, log], env: this.env });
    } finally {
      closeSync(log);
    }
    live.add(child);
    this.child = child;
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (this.child === child) this.child = null;
        resolve({ code, signal });
      });
    });
  }

  /** Sends `signal` without waiting; `exit` tells when the process is gone. */
  signal(signal: NodeJS.Signals): void {
    if (!this.child) throw new Error(`${this.id} is not running`);
    this.child.kill(signal);
  }

  /** Resolves when the current process exits (immediately if it is not running). */
  exit(timeoutMs = 15_000): Promise<Exit> {
    const exited = this.exited;
    if (!exited || !this.child) return exited ?? Promise.resolve({ code: null, signal: null });
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.id} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
  }

  /** Signals the process and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs?: number): Promise<Exit> {
    if (!this.child) return { code: null, signal: null };
    this.signal(signal);
    return this.exit(timeoutMs);
  }

  async status(): Promise<NodeStatus | null> {
    try {
      const r = await send(`${this.url}/v1/status`, { timeoutMs: 2000 });
      return r.status === 200 ? (r.json as NodeStatus) : null;
    } catch {
      return null;
    }
  }

  logTail(lines = 40): string {
    if (!existsSync(this.logPath)) return '(no log)';
    return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }
}

export interface ClusterOptions {
  readonly size?: number;
  /** Extra flags for every node (after the defaults, so they override them). */
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** A command every server runs under (see ServerNode), e.g. a lower file-descriptor limit. */
  readonly launcher?: readonly string[];
}

/**
 * Fast Raft timing for tests: 20 ms ticks, heartbeats every 40 ms, elections after 500-1000 ms
 * (long enough that a busy 2-core machine, whose fsyncs stall the event loop, does not start
 * needless elections).
 */
export const fastTiming = ['--tick-ms', '20', '--election-ticks', '25', '--heartbeat-ticks', '2'];

export class Cluster {
  private constructor(
    readonly root: string,
    readonly nodes: readonly ServerNode[],
  ) {}

  /** Starts `size` nodes (n1, n2, ...), waits until each serves HTTP and a leader is known. */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    requireBuiltServer();
    const size = opts.size ?? 3;
    const root = mkdtempSync(join(tmpdir(), 'raftkit-server-test-'));
    const ports = await freePorts(size);
    const ids = ports.map((_, i) => `n${i + 1}`);
    const env = cleanEnv(opts.env);
    const nodes = ids.map((id, i) => {
      const peers = ids.filter((p) => p !== id).map((p) => `${p}=http://127.0.0.1:${ports[ids.indexOf(p)]}`).join(',');
      const args = ['--id', id, '--listen', `127.0.0.1:${ports[i]}`, '--peers', peers, '--data', join(root, id), ...fastTiming, ...(opts.args ?? [])];
      return new ServerNode(id, ports[i]!, root, args, env, opts.launcher);
    });
    const cluster = new Cluster(root, nodes);
    try {
      for (const n of nodes) n.start();
      await Promise.all(nodes.map((n) => cluster.waitHealthy(n)));
      await cluster.leader();
    } catch (err) {
      cluster.printLogs();
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  node(id: string): ServerNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  get running(): ServerNode[] {
    return this.nodes.filter((n) => n.running);
  }

  waitHealthy(n: ServerNode, opts?: WaitOptions): Promise<true> {
    return waitFor(`${n.id} to serve /healthz`, async () => {
      if (!n.running) throw new Error(`${n.id} exited:\n${n.logTail(10)}`);
      return (await send(`${n.url}/healthz`, { timeoutMs: 2000 })).status === 200;
    }, opts);
  }

  /**
   * The leader, once one running node says it leads (in a term of at least `minTerm`) and, when
   * two or more nodes run, another running node follows it in that term.
   */
  async leader(opts: WaitOptions & { minTerm?: number } = {}): Promise<ServerNode> {
    return waitFor(`a leader${opts.minTerm ? ` in term >= ${opts.minTerm}` : ''}`, async () => {
      const running = this.running;
      const all = await Promise.all(running.map(async (n) => ({ n, s: await n.status() })));
      const lead = all.find(({ s }) => s?.role === 'leader' && s.term >= (opts.minTerm ?? 0));
      if (!lead) return null;
      const followed = running.length < 2 || all.some(({ n, s }) => n !== lead.n && s?.leader === lead.n.id && s.term === lead.s!.term);
      return followed ? lead.n : null;
    }, { timeoutMs: 20_000, ...opts });
  }

  /** Waits until `n` has applied at least `index`; returns its status. */
  caughtUp(n: ServerNode, index: number, opts?: WaitOptions): Promise<NodeStatus> {
    return waitFor(`${n.id} to apply index ${index}`, async () => {
      const s = await n.status();
      return s && s.appliedIndex >= index ? s : null;
    }, opts);
  }

  /** SIGKILLs every node at once (no awaiting between the signals), then waits for all. */
  async killAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit[]> {
    const running = this.running;
    for (const n of running) n.signal(signal);
    return Promise.all(running.map((n) => n.exit()));
  }

  printLogs(lines = 40): void {
    for (const n of this.nodes) process.stderr.write(`\n----- ${n.id} (${n.url}) log tail -----\n${n.logTail(lines)}\n`);
  }

  /** Kills whatever still runs and removes the data (KEEP_TEST_DATA=1 keeps it). */
  async stop(): Promise<void> {
    await Promise.all(this.running.map((n) => n.kill('SIGKILL').catch(() => undefined)));
    if (process.env['KEEP_TEST_DATA']) process.stderr.write(`kept test data in ${this.root}\n`);
    else rmSync(this.root, { recursive: true, force: true });
  }
}
