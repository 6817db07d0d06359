import { execFile } from 'node:child_process';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion and resolves with its exit code and output (never rejects on a
 * non-zero exit). A command still running after `timeoutMs` is killed and reported with code -1
 * and the output it had printed, so a hung program fails with its output, not a bare test timeout.
 */
export function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 45_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const options = { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } };
    execFile(cmd, args, options, (err, stdout, stderr) => {
      if (err?.killed) return resolve({ code: -1, stdout, stderr: `${stderr}\n(killed by ${err.signal ?? 'signal'} after ${timeoutMs} ms)` });
      if (err && typeof err.code !== 'number') return reject(new Error(`${cmd} ${args.join(' ')} could not run: ${err.message}`));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** A failure message that shows what was run, where, and everything it printed. */
export function describeRun(cmd: string, args: readonly string[], cwd: string, r: RunResult): string {
  return `\`${cmd} ${args.join(' ')}\` in ${cwd} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Runs a command and throws, with its output, unless it exits 0. */
export async function runOk(cmd: string, args: readonly string[], cwd: string, timeoutMs?: number): Promise<RunResult> {
  const r = await run(cmd, args, cwd, timeoutMs);
  if (r.code !== 0) throw new Error(describeRun(cmd, args, cwd, r));
  return r;
}
