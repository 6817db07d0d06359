// What a forwarding follower says when the forwarded write fails. A write that went out to the
// leader and got no answer may have applied: it must be answered as "outcome unknown"
// (504 SERVER_OUTCOME_UNKNOWN), never as "failed" (502 SERVER_FORWARD_FAILED), which promises it
// did not apply and is kept for failures before anything was sent. A retry with the same
// session tag then resolves the unknown outcome: the write applies once.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotLeaderError } from '@raftkit/core';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FORWARDED_BY_HEADER, notLeaderHandler } from '@raftkit/kv-http/internal';
import { Cluster, ServerNode, cleanEnv, fastTiming, freePorts, requireBuiltServer } from './helpers/cluster.js';
import { errorCode, getKey, jsonHeaders, send, type Reply } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

function ok(r: Reply, what: string): any {
  if (r.status !== 200) throw new Error(`${what}: expected 200, got ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

describe('a forwarding follower whose leader is paused mid-request (real processes)', () => {
  const REQUEST_TIMEOUT_MS = 1500;
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ args: ['--follower-mode', 'forward', '--request-timeout-ms', String(REQUEST_TIMEOUT_MS)] });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') cluster?.printLogs();
  });
  afterAll(() => cluster?.stop());

  test('answers 504 SERVER_OUTCOME_UNKNOWN (not 502), and a retry with the same session tag applies the write exactly once', async () => {
    const leader = await cluster.leader();
    const [f1, f2] = cluster.nodes.filter((n) => n !== leader) as [ServerNode, ServerNode];
    const term = (await leader.status())!.term;
    const { clientId } = ok(await send(`${f1.url}/v1/sessions`, { method: 'POST' }), 'session via the follower');
    const tag = { 'x-raftkit-client-id': String(clientId), 'x-raftkit-seq': '1' };
    const cas = (via: ServerNode) => send(`${via.url}/v1/kv/fo/once/cas`, { method: 'POST', headers: { ...jsonHeaders, ...tag }, body: '{"expected":null,"value":"once"}', timeoutMs: 20_000 });

    // The leader's kernel still accepts the connection and the request bytes; the process never
    // reads them while stopped, so the follower's forward gets no answer.
    leader.signal('SIGSTOP');
    let first: Reply;
    try {
      first = await cas(f1);
    } catch (err) {
      leader.signal('SIGCONT');
      throw err;
    }
    expect(first.status, first.text).toBe(504);
    expect(errorCode(first)).toBe('SERVER_OUTCOME_UNKNOWN');
    expect(first.json.error.message).toMatch(/may or may not have applied/);

    // The other two elect a new leader; the retry, same tag, goes to it and applies.
    const next = await waitFor('a new leader among the running followers', async () => {
      for (const n of [f1, f2]) {
        const s = await n.status();
        if (s?.role === 'leader' && s.term > term) return n;
      }
      return null;
    }, { timeoutMs: 20_000 });
    // Sent to the new leader's follower, which may not know the new leader yet (503) or still
    // forward to the paused one (504): retries with the same tag are safe, so retry until 200.
    const other = f1.id === next.id ? f2 : f1;
    const retried = await waitFor('the tagged retry to apply', async () => {
      const r = await cas(other);
      return r.status === 200 ? r.json : null;
    }, { timeoutMs: 20_000 });
    expect(retried.ok).toBe(true);

    // The old leader wakes up with the forwarded request still in its socket buffer. Whatever it
    // does with it (propose in its stale term, or refuse it), the write must not apply again.
    leader.signal('SIGCONT');
    await waitFor('the old leader to follow and catch up', async () => {
      const s = await leader.status();
      return s !== null && s.role === 'follower' && s.appliedIndex >= retried.revision;
    }, { timeoutMs: 20_000 });
    const again = ok(await cas(f1), 'a second retry');
    expect(again).toEqual({ revision: retried.revision, ok: true });
    for (const n of cluster.nodes) {
      expect(ok(await getKey(n.url, 'fo/once'), `read on ${n.id}`)).toMatchObject({ value: 'once', modRevision: retried.revision });
    }
  });
});

/**
 * A follower's forwarding against stand-in "leaders" on real sockets: one not listening, one
 * that takes the request and never answers, one that reads it and drops the connection, one
 * that answers.
 */
describe('forwarding failures, told apart by whether the request went out', () => {
  const FORWARD_TIMEOUT_MS = 400;
  let follower: http.Server;
  let followerUrl: string;
  let leaderUrl = '';
  const stand = http.createServer();
  const held: Socket[] = [];
  let received: { path: string; forwardedBy: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    stand.on('connection', (s) => held.push(s));
    stand.on('request', (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url!, forwardedBy: req.headers[FORWARDED_BY_HEADER] as string | undefined, body });
        if (req.url!.includes('/silent')) return; // never answers
        if (req.url!.includes('/crash')) return req.socket.destroy(); // read it, then "died"
        res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '3' }).end('{"revision":7}');
      });
    });
    await new Promise<void>((r) => stand.listen(0, '127.0.0.1', r));
    const app = express();
    app.use(express.json());
    const onNotLeader = notLeaderHandler({ selfId: 'f1', followerMode: 'forward', timeoutMs: FORWARD_TIMEOUT_MS, clientUrlOf: () => leaderUrl });
    app.put('/v1/kv/*key', (req, res) => void onNotLeader(req, res, new NotLeaderError('n1')));
    follower = http.createServer(app);
    await new Promise<void>((r) => follower.listen(0, '127.0.0.1', r));
    followerUrl = `http://127.0.0.1:${(follower.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await Promise.all([new Promise((r) => stand.close(r)), new Promise((r) => follower.close(r))]);
  });

  const put = (key: string) => send(`${followerUrl}/v1/kv/${key}`, { method: 'PUT', headers: jsonHeaders, body: '{"v":1}' });

  test('connection refused: 502 SERVER_FORWARD_FAILED, which says it did not apply', async () => {
    const [closedPort] = await freePorts(1);
    leaderUrl = `http://127.0.0.1:${closedPort}`;
    const r = await put('refused');
    expect(r.status).toBe(502);
    expect(errorCode(r)).toBe('SERVER_FORWARD_FAILED');
    expect(r.json.error.message).toMatch(/did not apply/);
  });

  test('sent, no answer: 504 SERVER_OUTCOME_UNKNOWN after the forward deadline', async () => {
    leaderUrl = `http://127.0.0.1:${(stand.address() as AddressInfo).port}`;
    received = [];
    const started = Date.now();
    const r = await put('silent');
    expect(Date.now() - started).toBeGreaterThanOrEqual(FORWARD_TIMEOUT_MS - 20);
    expect(r.status).toBe(504);
    expect(errorCode(r)).toBe('SERVER_OUTCOME_UNKNOWN');
    expect(received).toEqual([{ path: '/v1/kv/silent', forwardedBy: 'f1', body: '{"v":1}' }]);
  });

  test('sent, then the connection dropped: 504 SERVER_OUTCOME_UNKNOWN', async () => {
    received = [];
    const r = await put('crash');
    expect(r.status).toBe(504);
    expect(errorCode(r)).toBe('SERVER_OUTCOME_UNKNOWN');
    expect(received.map((x) => x.path)).toEqual(['/v1/kv/crash']);
  });

  test("the leader's answer is passed through with its headers and the hop header sent", async () => {
    received = [];
    const r = await put('fine');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ revision: 7 });
    expect(r.headers.get('retry-after')).toBe('3');
    expect(r.headers.get('x-raftkit-forwarded-to')).toBe(leaderUrl);
    expect(received).toEqual([{ path: '/v1/kv/fine', forwardedBy: 'f1', body: '{"v":1}' }]);
  });
});

/**
 * A forwarding loop: every node's --client-urls sends "the leader" to the third node, so each
 * follower forwards to the other follower. Without a hop limit one PUT bounced between the two
 * until the descriptors ran out; now the second follower refuses the already-forwarded request.
 */
describe('a forwarding loop between two followers (real processes)', () => {
  let root: string;
  let nodes: ServerNode[] = [];
  beforeAll(async () => {
    requireBuiltServer();
    root = mkdtempSync(join(tmpdir(), 'raftkit-server-loop-'));
    const ports = await freePorts(3);
    const ids = ['n1', 'n2', 'n3'];
    const url = (i: number) => `http://127.0.0.1:${ports[i]}`;
    nodes = ids.map((id, i) => {
      const others = [0, 1, 2].filter((j) => j !== i);
      const peers = others.map((j) => `${ids[j]}=${url(j)}`).join(',');
      // Node j is reached "for clients" at the URL of the node that is neither i nor j.
      const clientUrls = others.map((j) => `${ids[j]}=${url(3 - i - j)}`).join(',');
      const args = ['--id', id, '--listen', `127.0.0.1:${ports[i]}`, '--peers', peers, '--client-urls', clientUrls, '--follower-mode', 'forward', '--data', join(root, id), ...fastTiming];
      // A bounded descriptor table, so a loop (on code without the hop limit) cannot take the machine's.
      return new ServerNode(id, ports[i]!, root, args, cleanEnv(), ['prlimit', '--nofile=1024:1024']);
    });
    for (const n of nodes) n.start();
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') for (const n of nodes) process.stderr.write(`\n----- ${n.id} -----\n${n.logTail()}\n`);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.kill('SIGKILL').catch(() => undefined)));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const fds = (n: ServerNode) => readdirSync(`/proc/${n.pid}/fd`).length;

  test('one PUT gets 503 SERVER_FORWARD_LOOP after one extra hop, proposes nothing and holds no descriptors', async () => {
    const leader = await waitFor('a leader followed by both others', async () => {
      const all = await Promise.all(nodes.map(async (n) => ({ n, s: await n.status() })));
      const lead = all.find((x) => x.s?.role === 'leader');
      return lead && all.every((x) => x.s?.leader === lead.n.id && x.s.term === lead.s!.term) ? lead : null;
    }, { timeoutMs: 20_000 });
    const [f1, f2] = nodes.filter((n) => n !== leader.n) as [ServerNode, ServerNode];
    const before = (await leader.n.status())!.lastIndex;
    const fdsBefore = [fds(f1), fds(f2)];

    const r = await send(`${f1.url}/v1/kv/loop/a`, { method: 'PUT', headers: jsonHeaders, body: '1', timeoutMs: 15_000 });
    expect(r.status, r.text).toBe(503);
    expect(errorCode(r)).toBe('SERVER_FORWARD_LOOP');
    expect(r.json.error.leader).toBe(leader.n.id);
    expect(r.json.error.message).toContain(`forwarded here by "${f1.id}"`);
    expect(r.headers.get('x-raftkit-forwarded-to')).toBe(f2.url);

    expect((await leader.n.status())!.lastIndex).toBe(before);
    expect((await getKey(leader.n.url, 'loop/a')).status).toBe(404);
    expect(fds(f1) - fdsBefore[0]!).toBeLessThan(16);
    expect(fds(f2) - fdsBefore[1]!).toBeLessThan(16);
    // The leader itself still serves writes sent to it.
    expect((await send(`${leader.n.url}/v1/kv/loop/direct`, { method: 'PUT', headers: jsonHeaders, body: '2' })).status).toBe(200);
  });
});

describe('forwarding to an https leader', () => {
  test('verifies it against the cluster CA (--tls-ca) and passes its answer through; an untrusted one is 502, nothing sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkit-forward-tls-'));
    const servers: http.Server[] = [];
    try {
      const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=raftkit-forward-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leader.key', '-out', 'leader.csr', '-subj', '/CN=127.0.0.1');
      writeFileSync(join(dir, 'leader.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      openssl('x509', '-req', '-in', 'leader.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leader.crt', '-days', '2', '-extfile', 'leader.ext');
      const ca = readFileSync(join(dir, 'ca.crt'));
      const leader = https.createServer({ key: readFileSync(join(dir, 'leader.key')), cert: readFileSync(join(dir, 'leader.crt')) }, (req, res) => {
        req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"by":"${req.headers[FORWARDED_BY_HEADER]}"}`));
      });
      servers.push(leader);
      await new Promise<void>((r) => leader.listen(0, '127.0.0.1', r));
      const leaderUrl = `https://127.0.0.1:${(leader.address() as AddressInfo).port}`;
      const followerWith = async (trust: Buffer | undefined): Promise<string> => {
        const app = express();
        app.use(express.json());
        const onNotLeader = notLeaderHandler({ selfId: 'f1', followerMode: 'forward', timeoutMs: 2000, clientUrlOf: () => leaderUrl, ...(trust ? { ca: trust } : {}) });
        app.put('/v1/kv/*key', (req, res) => void onNotLeader(req, res, new NotLeaderError('n1')));
        const s = http.createServer(app);
        servers.push(s);
        await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
        return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      };
      const trusted = await send(`${await followerWith(ca)}/v1/kv/tls`, { method: 'PUT', headers: jsonHeaders, body: '{"v":1}' });
      expect(trusted.status, trusted.text).toBe(200);
      expect(trusted.json).toEqual({ by: 'f1' });
      const untrusted = await send(`${await followerWith(undefined)}/v1/kv/tls`, { method: 'PUT', headers: jsonHeaders, body: '{"v":1}' });
      expect(untrusted.status).toBe(502);
      expect(errorCode(untrusted)).toBe('SERVER_FORWARD_FAILED');
    } finally {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
