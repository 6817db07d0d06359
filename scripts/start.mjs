#!/usr/bin/env node
// `pnpm start`: a local 3-node raftkit KV cluster on 127.0.0.1:7001-7003, durable RocksDB data
// under ./data, logs under ./data/<id>.log. Ctrl-C stops all three (gracefully).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@raftkit/server...', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
});
if (build.status !== 0) process.exit(build.status ?? 1);
const cli = join(root, 'apps/server/dist/cli.js');
if (!existsSync(cli)) {
  console.error(`server not built: ${cli} is missing (run pnpm build)`);
  process.exit(1);
}
const nodes = [1, 2, 3].map((i) => ({ id: `n${i}`, port: 7000 + i }));
const url = (n) => `http://127.0.0.1:${n.port}`;
const dataRoot = join(root, 'data');
mkdirSync(dataRoot, { recursive: true });

const children = nodes.map((n) => {
  const peers = nodes.filter((p) => p !== n).map((p) => `${p.id}=${url(p)}`).join(',');
  const args = [cli, '--id', n.id, '--listen', `127.0.0.1:${n.port}`, '--peers', peers, '--data', join(dataRoot, n.id)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(dataRoot, `${n.id}.log`), { flags: 'a' });
  child.stdout.pipe(log);
  child.stderr.on('data', (d) => process.stderr.write(`[${n.id}] ${d}`));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${n.id}] exited unexpectedly (code ${code}, signal ${signal}); see data/${n.id}.log`);
    }
  });
  return child;
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the cluster...');
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', resolve);
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
  console.log('stopped. Data is kept in ./data (delete it to start afresh).');
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

async function status(n) {
  try {
    const r = await fetch(`${url(n)}/v1/status`);
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

const deadline = Date.now() + 30_000;
let leader = null;
while (!leader && Date.now() < deadline && !stopping) {
  await new Promise((r) => setTimeout(r, 200));
  const all = await Promise.all(nodes.map(status));
  leader = all.find((s) => s && s.role === 'leader')?.id ?? null;
}
if (!leader) {
  console.error('no leader elected within 30 s; see data/n*.log');
  await stop();
}
console.log(`raftkit: 3-node KV cluster running, leader ${leader}. Data in ./data, logs in ./data/n*.log

  n1  ${url(nodes[0])}
  n2  ${url(nodes[1])}
  n3  ${url(nodes[2])}

Dashboard: ${url(nodes[0])}/ui (any node serves it)

Try:
  curl -X PUT ${url(nodes[0])}/v1/kv/greeting -H 'content-type: application/json' -d '"hello"'
  curl ${url(nodes[1])}/v1/kv/greeting        # linearizable read, from any node
  curl -L ${url(nodes[2])}/v1/status          # role, term, leader, commit index, replication lag
  curl ${url(nodes[0])}/metrics               # Prometheus metrics

Ctrl-C stops all three.`);
