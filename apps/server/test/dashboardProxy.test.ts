/**
 * GET /v1/dashboard/members/{id} (issue 15 follow-up): the serving node fetches a member's
 * GET /v1/dashboard over the cluster network and answers it unchanged, so the page needs to
 * reach one origin only. DashboardProxy against stand-in members on real sockets (bytes passed
 * unchanged, refusals, silence, cut-offs, an https member verified against the CA), then a real
 * 3-node cluster: every member through a follower, non-members 404, a paused member 504, a
 * killed one 502, each coded and naming the member, and never a request to a URL the caller gave.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHttpError, type HttpError } from '@raftkit/kv-http/internal';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DashboardProxy } from '../src/dashboardProxy.js';
import { Cluster, type ServerNode } from './helpers/cluster.js';
import { errorCode, send } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A stand-in member on 127.0.0.1:0 that records the paths it was asked for. */
async function standIn(handler: Handler, server: http.Server = http.createServer()): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    paths,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function refusal(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!isHttpError(err)) throw new Error(`expected an HttpError, got ${String(err)}`);
  return err;
}

describe('DashboardProxy against stand-in members', () => {
  const proxyFor = (urls: Record<string, string | null>, opts: { timeoutMs?: number; ca?: Buffer; maxBytes?: number } = {}) =>
    new DashboardProxy({ selfId: 'n1', members: () => ['n1', ...Object.keys(urls)], clientUrlOf: (id) => urls[id] ?? null, ...opts });

  test("a member's answer byte for byte, from GET /v1/dashboard only; a non-member is 404 without a request", async () => {
    const body = '{"id":"n2",  "note":"spacing kept","n":1.50}';
    const m = await standIn((_req, res) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body));
    try {
      const proxy = proxyFor({ n2: `${m.url}/prefix` });
      const a = await proxy.fetch('n2');
      expect([a.body.toString(), a.contentType]).toEqual([body, 'application/json; charset=utf-8']);
      expect(m.paths).toEqual(['/prefix/v1/dashboard']);
      for (const id of ['ghost', `${m.url}/evil`, '../n2', 'N2']) {
        const e = await refusal(proxy.fetch(id));
        expect([e.status, e.code], id).toEqual([404, 'SERVER_MEMBER_NOT_FOUND']);
        expect(e.message).toContain(JSON.stringify(id));
        expect(e.extra).toEqual({ member: id });
      }
      expect(m.paths).toHaveLength(1);
    } finally {
      await m.close();
    }
  });

  test('concurrent asks for one member share one request', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const m = await standIn((_req, res) => void gate.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"n2"}')));
    try {
      const proxy = proxyFor({ n2: m.url });
      const asks = Array.from({ length: 5 }, () => proxy.fetch('n2'));
      await waitFor('the stand-in to be asked', () => m.paths.length === 1);
      release();
      for (const a of await Promise.all(asks)) expect(a.body.toString()).toBe('{"id":"n2"}');
      expect(m.paths).toHaveLength(1);
      await proxy.fetch('n2');
      expect(m.paths).toHaveLength(2);
    } finally {
      await m.close();
    }
  });

  test('502 for no address, a refused connection, a refusal, a non-JSON, a cut-off or an oversized answer; 504 for silence', async () => {
    const m = await standIn((req, res) => {
      const kind = new URL(req.url!, 'http://x').pathname.split('/')[1];
      if (kind === 'refuses') res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"SERVER_SHUTTING_DOWN","message":"x"}}');
      else if (kind === 'html') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
      else if (kind === 'cut') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"id":');
        setTimeout(() => res.destroy(), 20);
      } else if (kind === 'big') res.writeHead(200, { 'content-type': 'application/json' }).end(`"${'x'.repeat(5000)}"`);
      // 'silent': never answers.
    });
    const closed = await standIn(() => undefined);
    const closedUrl = closed.url;
    await closed.close();
    try {
      const proxy = proxyFor({
        none: null,
        down: closedUrl,
        refuses: `${m.url}/refuses`,
        html: `${m.url}/html`,
        cut: `${m.url}/cut`,
        big: `${m.url}/big`,
        silent: `${m.url}/silent`,
      }, { timeoutMs: 300, maxBytes: 4096 });
      const cases: Array<[string, number, string, RegExp]> = [
        ['none', 502, 'SERVER_MEMBER_UNREACHABLE', /member none: this node \(n1\) knows no client URL/],
        ['down', 502, 'SERVER_MEMBER_UNREACHABLE', /member down at .*ECONNREFUSED/],
        ['refuses', 502, 'SERVER_MEMBER_UNREACHABLE', /it answered 503 application\/json \(SERVER_SHUTTING_DOWN\)/],
        ['html', 502, 'SERVER_MEMBER_UNREACHABLE', /it answered 200 text\/html/],
        ['cut', 502, 'SERVER_MEMBER_UNREACHABLE', /member cut at .*(cut off|aborted|socket hang up)/],
        ['big', 502, 'SERVER_MEMBER_UNREACHABLE', /exceeds 4096 bytes/],
        ['silent', 504, 'SERVER_MEMBER_TIMEOUT', /member silent at .* did not answer GET \/v1\/dashboard within 300 ms/],
      ];
      for (const [id, status, code, message] of cases) {
        const t0 = Date.now();
        const e = await refusal(proxy.fetch(id));
        expect([e.status, e.code], id).toEqual([status, code]);
        expect(e.message, id).toMatch(message);
        expect(e.extra['member'], id).toBe(id);
        if (id === 'silent') expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      }
    } finally {
      await m.close();
    }
  });

  test('an https member is verified against the CA: trusted with it, 502 without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkit-dashboard-proxy-tls-'));
    try {
      const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=raftkit-dashboard-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'm.key', '-out', 'm.csr', '-subj', '/CN=127.0.0.1');
      writeFileSync(join(dir, 'm.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      openssl('x509', '-req', '-in', 'm.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'm.crt', '-days', '2', '-extfile', 'm.ext');
      const m = await standIn((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"n2"}'),
        https.createServer({ key: readFileSync(join(dir, 'm.key')), cert: readFileSync(join(dir, 'm.crt')) }));
      try {
        expect((await proxyFor({ n2: m.url }, { ca: readFileSync(join(dir, 'ca.crt')) }).fetch('n2')).body.toString()).toBe('{"id":"n2"}');
        const e = await refusal(proxyFor({ n2: m.url }).fetch('n2'));
        expect([e.status, e.code]).toEqual([502, 'SERVER_MEMBER_UNREACHABLE']);
        expect(e.message).toMatch(/certificate/i);
      } finally {
        await m.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GET /v1/dashboard/members/{id} on a real cluster', () => {
  let cluster: Cluster;
  let serving: ServerNode;
  let other: ServerNode;

  beforeAll(async () => {
    cluster = await Cluster.start();
    const leader = await cluster.leader();
    [serving, other] = cluster.nodes.filter((n) => n !== leader) as [ServerNode, ServerNode];
  });
  afterAll(async () => {
    if (other?.running) other.signal('SIGCONT');
    await cluster?.stop();
  });

  test("every member's own view through a follower, unchanged; its own answered locally", async () => {
    for (const n of cluster.nodes) {
      const r = await send(`${serving.url}/v1/dashboard/members/${n.id}`);
      expect(r.status, n.id).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
      const direct = (await send(`${n.url}/v1/dashboard`)).json;
      // The same process answered: its id, start time and history; `now` moves on.
      expect({ id: r.json.id, startedAt: r.json.startedAt, first: r.json.history.states[0] }).toEqual({ id: n.id, startedAt: direct.startedAt, first: direct.history.states[0] });
      expect(Object.keys(r.json).sort()).toEqual(Object.keys(direct).sort());
    }
  });

  test('a non-member id is 404 SERVER_MEMBER_NOT_FOUND naming it, however spelled', async () => {
    for (const id of ['ghost', 'N1', 'n1%2F..', '..%2Fstatus', encodeURIComponent(other.url), 'n1/extra']) {
      const r = await send(`${serving.url}/v1/dashboard/members/${id}`);
      expect(r.status, id).toBe(404);
      expect(errorCode(r), id).toBe('SERVER_MEMBER_NOT_FOUND');
      expect(r.json.error.message, id).toContain('is not a member');
    }
  });

  test('never a request to a URL from the request: query parameters and ids are not addresses', async () => {
    const trap = await standIn((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"trap"}'));
    try {
      const asks = [
        `/v1/dashboard/members/${other.id}?url=${encodeURIComponent(trap.url)}`,
        `/v1/dashboard/members/${other.id}?target=${encodeURIComponent(trap.url)}&host=${new URL(trap.url).host}`,
        `/v1/dashboard/members/${encodeURIComponent(trap.url)}`,
        `/v1/dashboard/members/${encodeURIComponent(new URL(trap.url).host)}`,
        `/v1/dashboard/members/ghost?url=${encodeURIComponent(trap.url)}`,
      ];
      const answers = await Promise.all(asks.map((p) => send(`${serving.url}${p}`)));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 404, 404, 404]);
      expect(answers[0]!.json.id).toBe(other.id);
      expect(trap.paths).toEqual([]);
    } finally {
      await trap.close();
    }
  });

  test('a paused member is 504 SERVER_MEMBER_TIMEOUT after 1.5 s, a killed one 502 SERVER_MEMBER_UNREACHABLE, both naming it', async () => {
    other.signal('SIGSTOP');
    try {
      const t0 = Date.now();
      const r = await send(`${serving.url}/v1/dashboard/members/${other.id}`);
      const ms = Date.now() - t0;
      expect([r.status, errorCode(r)]).toEqual([504, 'SERVER_MEMBER_TIMEOUT']);
      expect(r.json.error).toMatchObject({ member: other.id, url: other.url });
      expect(r.json.error.message).toContain(`member ${other.id} at ${other.url} did not answer`);
      expect(ms).toBeGreaterThanOrEqual(1400);
      expect(ms).toBeLessThan(5000);
    } finally {
      other.signal('SIGCONT');
    }
    await other.kill('SIGKILL');
    const r = await send(`${serving.url}/v1/dashboard/members/${other.id}`);
    expect([r.status, errorCode(r)]).toEqual([502, 'SERVER_MEMBER_UNREACHABLE']);
    expect(r.json.error).toMatchObject({ member: other.id, url: other.url });
    expect(r.json.error.message).toMatch(new RegExp(`member ${other.id} at .*ECONNREFUSED.*asked by ${serving.id}`));
    // The serving node itself and the live member still answer.
    expect((await send(`${serving.url}/v1/dashboard/members/${serving.id}`)).status).toBe(200);
    const leader = cluster.nodes.find((n) => n !== serving && n !== other)!;
    expect((await send(`${serving.url}/v1/dashboard/members/${leader.id}`)).json.id).toBe(leader.id);
  });
});
