// --tls-cert/--tls-key/--tls-ca: clients and peers talk HTTPS. A CA and a node certificate for
// 127.0.0.1 are made with openssl at test time; a 3-node cluster elects a leader over TLS,
// redirects point to https URLs, and clients that do not trust the CA, or speak plain HTTP,
// get nowhere.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { ServerNode, cleanEnv, freePorts, requireBuiltServer } from './helpers/cluster.js';
import { send } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

interface HttpsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

let root: string;
let ca: Buffer;
let nodes: { node: ServerNode; url: string }[] = [];

function request(url: string, opts: { method?: string; body?: string; ca?: Buffer | null } = {}): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: opts.method ?? 'GET',
      ...(opts.ca === null ? {} : { ca: opts.ca ?? ca }),
      headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
      timeout: 5000,
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: text && res.headers['content-type']?.includes('json') ? JSON.parse(text) : undefined }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-server-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: root, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=raftkit-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(root, 'node.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.crt', '-days', '2', '-extfile', 'node.ext');
  ca = readFileSync(join(root, 'ca.crt'));

  const ports = await freePorts(3);
  const ids = ['n1', 'n2', 'n3'];
  const url = (i: number) => `https://127.0.0.1:${ports[i]}`;
  nodes = ids.map((id, i) => {
    const peers = ids.map((p, j) => (j === i ? null : `${p}=${url(j)}`)).filter(Boolean).join(',');
    const args = ['--id', id, '--listen', `127.0.0.1:${ports[i]}`, '--peers', peers, '--data', join(root, id), '--tick-ms', '20', '--election-ticks', '25', '--heartbeat-ticks', '2',
      '--tls-cert', join(root, 'node.crt'), '--tls-key', join(root, 'node.key'), '--tls-ca', join(root, 'ca.crt'), '--follower-mode', 'redirect'];
    return { node: new ServerNode(id, ports[i]!, root, args, cleanEnv()), url: url(i) };
  });
  for (const { node } of nodes) node.start();
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') for (const { node } of nodes) process.stderr.write(`\n----- ${node.id} -----\n${node.logTail()}\n`);
});
afterAll(async () => {
  await Promise.all(nodes.map(({ node }) => node.kill('SIGKILL')));
  if (root) rmSync(root, { recursive: true, force: true });
});

test('a 3-node cluster elects a leader and replicates over TLS; redirects name https URLs', async () => {
  const leader = await waitFor('a leader over TLS', async () => {
    const all = await Promise.all(nodes.map(async (n) => ({ n, s: (await request(`${n.url}/v1/status`).catch(() => null))?.json })));
    const lead = all.find(({ s }) => s?.role === 'leader');
    return lead && all.every(({ s }) => s?.leader === lead.s.id) ? lead.n : null;
  }, { timeoutMs: 20_000 });
  const [f1, f2] = nodes.filter((n) => n !== leader);

  const redirect = await request(`${f1!.url}/v1/kv/tls/a`, { method: 'PUT', body: '"secret"' });
  expect(redirect.status).toBe(307);
  expect(redirect.headers['location']).toBe(`${leader.url}/v1/kv/tls/a`);
  const put = await request(redirect.headers['location'] as string, { method: 'PUT', body: '"secret"' });
  expect(put.status).toBe(200);
  const got = await request(`${f2!.url}/v1/kv/tls/a`);
  expect(got.json).toMatchObject({ value: 'secret', modRevision: put.json.revision });
  // Both followers receive the entry over TLS.
  await waitFor('both followers to match the write', async () => {
    const peers = Object.values((await request(`${leader.url}/v1/status`)).json.peers) as { match: number; url: string }[];
    expect(peers.every((p) => p.url.startsWith('https://'))).toBe(true);
    return peers.every((p) => p.match >= put.json.revision);
  });
});

test('clients that do not trust the CA, or speak plain HTTP, are refused', async () => {
  const { url, node } = nodes[0]!;
  await expect(request(`${url}/v1/status`, { ca: null })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  await expect(send(`${node.url}/v1/status`, { timeoutMs: 3000 })).rejects.toThrow();
});
