// A local 3-node raftkit-server cluster for the benchmarks: the built dist/cli.js, free ports on
// 127.0.0.1, its own scratch data directory (removed on stop), stopped on SIGINT/SIGTERM too.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './nodes.mjs';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
/** Node flags for every server process, e.g. BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);


async function status(n) {
  try {
    const r = await fetch(`${n.url}/v1/status`, { signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

/**
 * Starts the cluster. `prefix` names the scratch dir (under BENCH_DIR or the OS temp dir);
 * `args` and `env` are extra server flags and environment. Returns its nodes, `waitForLeader()`
 * and `stop()`.
 */
export async function startCluster({ prefix, args = [], env = {} }) {
  if (!existsSync(cli)) {
    console.error(`bench runs the built server, but ${cli} is missing: run \`pnpm build\` first`);
    process.exit(1);
  }
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), prefix));
  const ports = await freePorts(3);
  const nodes = ports.map((port, i) => ({ id: `n${i + 1}`, port, url: `http://127.0.0.1:${port}`, child: null, exited: null }));
  for (const n of nodes) {
    const peers = nodes.filter((p) => p !== n).map((p) => `${p.id}=${p.url}`).join(',');
    const log = openSync(join(root, `${n.id}.log`), 'a');
    const flags = [...nodeFlags, cli, '--id', n.id, '--listen', `127.0.0.1:${n.port}`, '--peers', peers, '--data', join(root, n.id), '--log-level', 'warn', ...args];
    n.child = spawn(process.execPath, flags, { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
    closeSync(log);
    n.exited = new Promise((resolve) => n.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  let stopping = null;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.all(
        nodes.map(async (n) => {
          if (!n.child || n.child.exitCode !== null || n.child.signalCode !== null) return;
          n.child.kill('SIGTERM');
          const timer = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
          await n.exited;
          clearTimeout(timer);
        }),
      );
      rmSync(root, { recursive: true, force: true });
    })();
    return stopping;
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop().then(() => process.exit(130)));

  /** The leader, once two nodes agree on it in its term. */
  const waitForLeader = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const all = await Promise.all(nodes.map(status));
      const lead = all.find((s) => s?.role === 'leader');
      if (lead && all.filter((s) => s?.leader === lead.id && s.term === lead.term).length >= 2) return { node: nodes.find((n) => n.id === lead.id), term: lead.term };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no leader within ${timeoutMs} ms; logs in ${root}`);
  };
  return { root, nodes, stop, waitForLeader };
}
