/**
 * The built `raftkit` CLI (packages/client/dist/cli.js) as a real process: one command run to
 * its end (with standard input), or a long-running one (watch) read line by line and stopped
 * with a signal.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cleanEnv } from './cluster.js';
import { waitFor } from './poll.js';

export const raftkitCli = join(dirname(createRequire(import.meta.url).resolve('@raftkit/client/package.json')), 'dist', 'cli.js');

export function requireBuiltCli(): void {
  if (!existsSync(raftkitCli)) throw new Error(`${raftkitCli} is missing: run "pnpm build" in packages/client`);
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `raftkit ARGS` to its end; `input` is written to its stdin (else stdin is closed at once). */
export function runRaftkit(args: readonly string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [raftkitCli, ...args], { env: cleanEnv(opts.env), timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

/** A long-running `raftkit` process (watch, keep-alive) whose output is read as it comes. */
export class RaftkitProcess {
  private out = '';
  private err = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private static readonly live = new Set<ChildProcess>();

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [raftkitCli, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    RaftkitProcess.live.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (t: string) => (this.out += t));
    this.child.stderr!.setEncoding('utf8').on('data', (t: string) => (this.err += t));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      RaftkitProcess.live.delete(this.child);
      resolve(code);
    }));
  }

  /** Complete lines printed so far. */
  get lines(): string[] {
    return this.out.split('\n').slice(0, -1);
  }

  get stderr(): string {
    return this.err;
  }

  /** Waits until at least `n` complete lines were printed; returns them. */
  waitLines(n: number, timeoutMs = 15_000): Promise<string[]> {
    return waitFor(`raftkit to print ${n} lines (has ${this.lines.length}: ${JSON.stringify(this.out.slice(-300))}, stderr ${JSON.stringify(this.err.slice(-300))})`, () => (this.lines.length >= n ? this.lines : null), { timeoutMs });
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10_000): Promise<number | null> {
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`raftkit did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the exit code once the process ends by itself. */
  exit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGKILLs every process still running (for afterAll). */
  static killAll(): void {
    for (const c of RaftkitProcess.live) c.kill('SIGKILL');
  }
}
