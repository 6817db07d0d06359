/**
 * One real raftkit-server (the built apps/server/dist/cli.js) on 127.0.0.1, a port the kernel
 * picks (port 0), a temporary data directory. Its URL is read from its "listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './deployFiles.js';

export const serverCli = join(repoRoot, 'apps/server/dist/cli.js');

export interface RealServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startServer(timeoutMs = 30_000): Promise<RealServer> {
  if (!existsSync(serverCli)) throw new Error(`${serverCli} is missing: build apps/server first (pnpm test builds it)`);
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-check-deploy-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RAFTKIT_')) env[k] = v;
  const child: ChildProcess = spawn(process.execPath, [serverCli, '--id', 'g1', '--listen', '127.0.0.1:0', '--data', join(dir, 'g1')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not log its URL within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      child.once('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'raftkit server listening' && entry.url) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // Not a log line.
        }
      });
    });
    return { url, port: Number(new URL(url).port), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls until `probe` holds; fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
