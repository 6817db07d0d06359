/** Membership helpers for the server tests: extra nodes that --join, and member listings. */
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { join } from 'node:path';
import { Cluster, ServerNode, cleanEnv, cliPath, fastTiming, freePorts } from './cluster.js';
import { send } from './http.js';
import { waitFor, type WaitOptions } from './poll.js';

export interface Member {
  id: string;
  url: string | null;
  role: 'voter' | 'learner';
  outgoing: boolean;
  self: boolean;
}

export interface Members {
  leader: string | null;
  index: number;
  committed: boolean;
  joint: boolean;
  members: Member[];
}

/** A node with a new id and an empty data directory under the cluster's root; not started. */
export async function newNode(cluster: Cluster, id: string, args: readonly string[]): Promise<ServerNode> {
  const [port] = await freePorts(1);
  const nodeArgs = ['--id', id, '--listen', `127.0.0.1:${port}`, '--data', join(cluster.root, id), ...fastTiming, ...args];
  return new ServerNode(id, port!, cluster.root, nodeArgs, cleanEnv());
}

export async function members(url: string): Promise<Members> {
  const r = await send(`${url}/v1/members`);
  if (r.status !== 200) throw new Error(`GET ${url}/v1/members: ${r.status} ${r.text.slice(0, 200)}`);
  return r.json as Members;
}

/** `id -> role` of a listing, e.g. { n1: 'voter', n4: 'learner' }. */
export function roles(m: Members): Record<string, string> {
  return Object.fromEntries(m.members.map((x) => [x.id, x.outgoing ? `${x.role} (outgoing)` : x.role]));
}

/** Waits until `url` lists exactly `expected` (id -> role), committed and not joint. */
export function waitForMembers(url: string, expected: Record<string, string>, opts: WaitOptions = {}): Promise<Members> {
  const want = JSON.stringify(Object.entries(expected).sort());
  return waitFor(`${url} to list ${want} (committed)`, async () => {
    const m = await members(url);
    return m.committed && !m.joint && JSON.stringify(Object.entries(roles(m)).sort()) === want ? m : null;
  }, { timeoutMs: 20_000, ...opts });
}

/** Runs `raftkit-server recover ...` to completion. */
export function runRecover(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, 'recover', ...args], { encoding: 'utf8', env: cleanEnv(), timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A 3-node cluster for the whole file plus the extra nodes a test starts (push them onto
 * `extra`): logs of all of them are printed when a test fails, all are killed at the end.
 */
export function clusterWithExtras(): { cluster: () => Cluster; extra: ServerNode[] } {
  let cluster: Cluster | undefined;
  const extra: ServerNode[] = [];
  beforeAll(async () => {
    cluster = await Cluster.start();
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    cluster?.printLogs();
    for (const n of extra) process.stderr.write(`\n----- ${n.id} log tail -----\n${n.logTail(40)}\n`);
  });
  afterAll(async () => {
    await Promise.all(extra.map((n) => n.kill('SIGKILL')));
    await cluster?.stop();
  });
  return { cluster: () => cluster!, extra };
}
