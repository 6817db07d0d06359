// Peers by DNS name (issue 15): a StatefulSet pod's name resolves only once the pod runs. Real
// server processes given one --initial-cluster list whose third member's host name does not
// resolve yet (helpers/lateDns.mjs answers ENOTFOUND for it until the test lists it, with no
// DNS query leaving the machine): the two others stay up, elect a leader and take writes, log
// the unresolved peer rate limited, and replicate to the third once its name resolves.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { cleanEnv, fastTiming, freePorts, requireBuiltServer, ServerNode } from './helpers/cluster.js';
import { jsonHeaders, send, sendThroughElections } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

const lateDns = fileURLToPath(new URL('./helpers/lateDns.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'raftkit-peer-dns-'));
const hostsFile = join(root, 'late-hosts');
const nodes: ServerNode[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill('SIGKILL').catch(() => undefined)));
  rmSync(root, { recursive: true, force: true });
});

/** pino JSON lines of a node's log that mention `code`. */
function logLinesWith(n: ServerNode, code: string): Array<Record<string, unknown>> {
  return readFileSync(n.logPath, 'utf8').split('\n').filter((l) => l.includes(code)).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function counted(n: ServerNode, code: string): Promise<number> {
  const text = (await send(`${n.url}/metrics`)).text;
  const m = new RegExp(`^raftkit_peer_errors_total\\{code="${code}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('a peer given by a DNS name that resolves later', () => {
  test('two nodes elect and serve writes, log it rate limited, and reach the third once its name resolves', async () => {
    requireBuiltServer();
    writeFileSync(hostsFile, '');
    const ports = await freePorts(3);
    const late = 'n3.peers.raftkit-test';
    const list = `n1=http://127.0.0.1:${ports[0]},n2=http://127.0.0.1:${ports[1]},n3=http://${late}:${ports[2]}`;
    const env = cleanEnv({ NODE_OPTIONS: `--import ${lateDns}`, LATE_DNS_HOSTS_FILE: hostsFile, RAFTKIT_INITIAL_CLUSTER: list });
    for (const [i, id] of ['n1', 'n2', 'n3'].entries()) {
      nodes.push(new ServerNode(id, ports[i]!, root, ['--id', id, '--listen', `127.0.0.1:${ports[i]}`, '--data', join(root, id), ...fastTiming], env));
    }
    const [n1, n2, n3] = nodes as [ServerNode, ServerNode, ServerNode];
    const started = Date.now();
    n1.start();
    n2.start();
    for (const n of [n1, n2]) {
      await waitFor(`${n.id} to serve /healthz`, async () => {
        if (!n.running) throw new Error(`${n.id} exited:\n${n.logTail(10)}`);
        return (await send(`${n.url}/healthz`, { timeoutMs: 2000 })).status === 200;
      });
    }

    // A majority of the three (n1, n2) elects a leader and commits writes without n3.
    const put = await sendThroughElections(`${n1.url}/v1/kv/dns`, { method: 'PUT', headers: jsonHeaders, body: '"before n3 resolves"' }, 20_000);
    expect(put.status, put.text).toBe(200);
    const revision = (put.json as { revision: number }).revision;
    const leader = await waitFor('a leader', async () => (await n1.status())?.leader ?? null);
    expect(['n1', 'n2']).toContain(leader);

    // The leader keeps retrying n3 (followers send it nothing): counted every time, logged
    // once per 10 s. Its backoff doubles from 50 ms to 5 s, so 6 attempts take about 3 s.
    const lead = nodes.find((n) => n.id === leader)!;
    const attempts = await waitFor('the leader to count 6 unresolved attempts', async () => {
      const c = await counted(lead, 'RAFT_HTTP_PEER_UNRESOLVED');
      return c >= 6 ? c : null;
    }, { timeoutMs: 20_000 });
    const elapsedS = (Date.now() - started) / 1000;
    const lines = logLinesWith(lead, 'RAFT_HTTP_PEER_UNRESOLVED');
    expect(lines.length, `${lead.id}'s lines about n3`).toBeGreaterThanOrEqual(1);
    expect(lines.length, `${lead.id}: at most one line per 10 s, not one per attempt (${attempts})`).toBeLessThanOrEqual(Math.ceil(elapsedS / 10) + 1);
    expect(lines[0]).toMatchObject({ level: 40, code: 'RAFT_HTTP_PEER_UNRESOLVED', peer: 'n3', msg: `peer transport: peer n3: host name ${late} does not resolve (ENOTFOUND); retrying with backoff until it does` });
    for (const n of [n1, n2]) expect(n.running, `${n.id} is still up`).toBe(true);

    // The pod comes up: its name resolves, it starts with the same list and catches up.
    writeFileSync(hostsFile, `${late}\n`);
    n3.start();
    const s3 = await waitFor('n3 to apply the write made before it resolved', async () => {
      const s = await n3.status();
      return s && s.appliedIndex >= revision && s.leader !== null ? s : null;
    }, { timeoutMs: 20_000 });
    expect(['n1', 'n2']).toContain(s3.leader);
    const read = await send(`${n3.url}/v1/kv/dns`);
    expect(read.json).toMatchObject({ value: 'before n3 resolves' });
    const ls = await waitFor('the leader to see n3 replicated', async () => {
      const s = await nodes.find((n) => n.id === s3.leader)!.status();
      return s && (s.peers['n3']?.match ?? 0) >= revision ? s : null;
    });
    expect(ls.peers['n3']!.url).toBe(`http://${late}:${ports[2]}`);
  }, 90_000);
});
