import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface ServerSpec {
  readonly id: string;
  readonly port: number;
  /** Path of apps/server's dist/cli.js. */
  readonly cli: string;
  /** The server's flags, --id and --listen included. */
  readonly args: readonly string[];
  /** Appended to across restarts: stdout and stderr of every incarnation. */
  readonly logPath: string;
}

/** How one incarnation is started. */
export interface Launch {
  /** Start under this RLIMIT_NOFILE (soft and hard: `ulimit -n`), through prlimit(1). */
  readonly nofile?: number;
  /**
   * This incarnation may refuse to start (its storage was damaged on purpose): its own exit is
   * kept in `refusal` instead of being reported as a crash, until `settled()`.
   */
  readonly mayRefuse?: boolean;
}

/** Reports an exit the harness did not cause (a crash is a finding, not noise). */
export type UnexpectedExit = (id: string, code: number | null, signal: NodeJS.Signals | null) => void;

/**
 * One raftkit server, across kills and restarts.
 *
 * Invariant: `paused` is true only while the current child is alive and SIGSTOPped; every
 * path that kills a child sends SIGCONT first, so no stopped process can outlive the harness.
 */
export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** How the latest incarnation exited, once it did. */
  private lastExit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
  private expectingExit = false;
  private paused = false;
  private mayRefuse = false;
  /** How the latest incarnation started with `mayRefuse` exited by itself; null while none did. */
  refusal: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  /** Every pid this server ever had, for the caller's leak check. */
  readonly pids: number[] = [];

  constructor(
    readonly spec: ServerSpec,
    private readonly onUnexpectedExit: UnexpectedExit,
  ) {}

  get id(): string {
    return this.spec.id;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  start(launch: Launch = {}): void {
    if (this.child) throw new Error(`${this.id} is already running`);
    // The child writes straight to the log file: no pipe that could fill and block it.
    const log = openSync(this.spec.logPath, 'a');
    const argv = [process.execPath, this.spec.cli, ...this.spec.args];
    // prlimit execs the command, so the pid (signals, pause) is the server's own.
    if (launch.nofile !== undefined) argv.unshift('prlimit', `--nofile=${launch.nofile}:${launch.nofile}`, '--');
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', log, log] });
    closeSync(log);
    if (child.pid === undefined) throw new Error(`could not spawn ${this.id}`);
    this.pids.push(child.pid);
    this.child = child;
    this.expectingExit = false;
    this.mayRefuse = launch.mayRefuse === true;
    this.refusal = null;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        this.lastExit = { code, signal };
        this.paused = false;
        if (this.mayRefuse && !this.expectingExit) this.refusal = { code, signal };
        else if (!this.expectingExit) this.onUnexpectedExit(this.id, code, signal);
        resolve();
      });
    });
  }

  /** SIGKILL (after SIGCONT if paused); resolves once the process is reaped. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.killNow();
    await this.exited;
  }

  /**
   * A graceful stop: SIGTERM (after SIGCONT if paused), SIGKILL only if it is still there after
   * `timeoutMs`. Resolves to how it exited: a clean shutdown is code 0.
   */
  async terminate(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child) return { code: null, signal: null };
    this.expectingExit = true;
    if (this.paused) child.kill('SIGCONT');
    this.paused = false;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return this.lastExit;
  }

  /** The harness is about to make this process exit (e.g. remove it from the cluster): not a crash. */
  expectExit(): void {
    this.expectingExit = true;
  }

  /** Synchronous kill for exit handlers, which cannot wait. */
  killNow(): void {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    if (this.paused) child.kill('SIGCONT');
    child.kill('SIGKILL');
  }

  /** Ends `mayRefuse`: from now on an exit of its own is a crash again. */
  settled(): void {
    this.mayRefuse = false;
  }

  pause(): void {
    if (!this.child || this.paused) return;
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.child || !this.paused) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }
}
