import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { deadUrl, startCluster, stubServer, type TestCluster } from './cluster.js';

let cluster: TestCluster;
let endpoints = '';
beforeAll(async () => {
  cluster = await startCluster();
  endpoints = [...cluster.urls.values()].join(',');
});
afterAll(async () => {
  await cluster?.close();
});

async function cli(argv: string[], opts: { stdin?: string; env?: Record<string, string>; signal?: AbortSignal } = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdout: (t) => (out += typeof t === 'string' ? t : new TextDecoder().decode(t)),
    stderr: (t) => (err += t),
    readStdin: async () => new TextEncoder().encode(opts.stdin ?? ''),
    env: opts.env ?? {},
  }, opts.signal ?? new AbortController().signal);
  return { code, out, err };
}

describe('raftkit CLI (in process)', () => {
  it('put, get, get --prefix, del, with text and --json output', async () => {
    expect(await cli(['put', 'cli/a', 'hello', '--endpoints', endpoints])).toEqual({ code: 0, out: 'OK\n', err: '' });
    expect((await cli(['put', 'cli/b', '{"n":1}', '--json-value', '--endpoints', endpoints])).code).toBe(0);
    expect(await cli(['get', 'cli/a', '--endpoints', endpoints])).toEqual({ code: 0, out: 'cli/a\nhello\n', err: '' });
    expect((await cli(['get', 'cli/b', '--print-value-only', '--endpoints', endpoints])).out).toBe('{"n":1}\n');
    expect((await cli(['get', 'cli/', '--prefix', '--endpoints', endpoints])).out).toBe('cli/a\nhello\ncli/b\n{"n":1}\n');
    const j = JSON.parse((await cli(['get', 'cli/', '--prefix', '--limit', '1', '--json', '--endpoints', endpoints])).out);
    expect(j).toMatchObject({ more: true, entries: [{ key: 'cli/a', value: 'hello' }] });
    expect(await cli(['del', 'cli/a', '--endpoints', endpoints])).toEqual({ code: 0, out: '1\n', err: '' });
    expect(await cli(['del', 'cli/a', '--endpoints', endpoints])).toEqual({ code: 0, out: '0\n', err: '' });
  });

  it('a missing key prints nothing and exits 0 (as etcdctl)', async () => {
    expect(await cli(['get', 'cli/none', '--endpoints', endpoints])).toEqual({ code: 0, out: '', err: '' });
  });

  it('takes the endpoints from RAFTKIT_ENDPOINTS, and bytes from stdin with --file -', async () => {
    expect((await cli(['put', 'cli/bin', '--file', '-'], { stdin: 'raw\u0000bytes', env: { RAFTKIT_ENDPOINTS: endpoints } })).code).toBe(0);
    const j = JSON.parse((await cli(['get', 'cli/bin', '--json'], { env: { RAFTKIT_ENDPOINTS: endpoints } })).out);
    expect(j.value).toEqual({ base64: Buffer.from('raw\u0000bytes').toString('base64') });
  });

  it('endpoint status and health: a table, or --json; member list', async () => {
    const t = await cli(['endpoint', 'status', '--endpoints', endpoints]);
    expect(t.code).toBe(0);
    expect(t.out.split('\n')[0]).toMatch(/^ENDPOINT\s+ID\s+ROLE\s+TERM\s+LEADER/);
    expect(t.out).toContain('leader');
    const j = JSON.parse((await cli(['endpoint', 'status', '--json', '--endpoints', endpoints])).out) as { ok: boolean; result: { id: string } }[];
    expect(j.map((r) => r.result.id)).toEqual(['a', 'b', 'c']);
    const h = JSON.parse((await cli(['endpoint', 'health', '--json', '--endpoints', `${endpoints},${await deadUrl()}`, '--timeout', '300ms'])).out) as { health: boolean }[];
    expect(h.map((r) => r.health)).toEqual([true, true, true, false]);
  });

  it('exit codes: 2 usage, 3 no endpoint reachable, 1 refused; errors as "Error: CODE: message"', async () => {
    const usage = await cli(['put']);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/^Error: CLIENT_USAGE: put takes 1 to 2 arguments/);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['get', 'k', '--no-such-flag'])).code).toBe(2);
    expect((await cli(['get', 'k', '--consistency', 'sloppy', '--endpoints', endpoints])).code).toBe(2);
    const down = await cli(['get', 'k', '--endpoints', await deadUrl(), '--timeout', '300ms']);
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/^Error: CLIENT_UNAVAILABLE: /);
    const refused = await cli(['put', 'k'.repeat(5000), 'v', '--endpoints', endpoints]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^Error: KV_INVALID_ARGUMENT: put k{77}\.\.\.: .*key/);
  });

  it('exit code 4 when a write may or may not have applied', async () => {
    const stub = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 1 }));
      app.put(/.*/, (_req, res) => void res.status(504).json({ error: { code: 'SERVER_OUTCOME_UNKNOWN', message: 'no answer from the leader' } }));
      app.get('/v1/status', (_req, res) => void res.status(500).end());
    });
    try {
      const r = await cli(['put', 'k', 'v', '--endpoints', stub.url, '--timeout', '200ms']);
      expect(r.code).toBe(4);
      expect(r.err).toMatch(/^Error: SERVER_OUTCOME_UNKNOWN: .*may or may not have applied/);
    } finally {
      await stub.close();
    }
  });

  it('lease grant, list, keep-alive --once, revoke (stand-in routes)', async () => {
    const stub = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 1 }));
      app.post('/v1/leases', (req, res) => void res.json({ revision: 3, id: 3, ttlMs: (req.body as { ttlMs: number }).ttlMs }));
      app.get('/v1/leases', (_req, res) => void res.json({ leases: [{ id: 3, ttlMs: 9000, grantedTtlMs: 10000 }] }));
      app.post('/v1/leases/3/keepalive', (_req, res) => void res.json({ id: 3, ttlMs: 10000 }));
      app.delete('/v1/leases/3', (_req, res) => void res.json({ revision: 4, revoked: true, deleted: 1 }));
    });
    try {
      const e = ['--endpoints', stub.url];
      expect(await cli(['lease', 'grant', '10s', ...e])).toEqual({ code: 0, out: 'lease 3 granted with TTL 10000ms\n', err: '' });
      expect(JSON.parse((await cli(['lease', 'grant', '1500ms', '--json', ...e])).out)).toEqual({ revision: 3, id: 3, ttlMs: 1500 });
      expect((await cli(['lease', 'list', ...e])).out).toBe('ID  TTL(ms)  GRANTED(ms)\n3   9000     10000\n');
      expect((await cli(['lease', 'keep-alive', '3', '--once', ...e])).out).toBe('lease 3 kept alive, TTL 10000ms\n');
      expect((await cli(['lease', 'revoke', '3', ...e])).out).toBe('lease 3 revoked (1 keys deleted)\n');
      expect((await cli(['lease', 'grant', 'soon', ...e])).code).toBe(2);
    } finally {
      await stub.close();
    }
  });

  it('--help prints the commands and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['put KEY', 'get KEY', 'del KEY', 'txn', 'watch KEY', 'lease grant', 'member list', 'leader transfer', 'endpoint status', 'snapshot save FILE']) expect(r.out).toContain(c);
    expect((await cli(['lease', 'grant', '--help'])).out).toMatch(/^usage: raftkit lease grant TTL/);
    expect((await cli(['member', '--help'])).out).toContain('raftkit member promote ID');
    const bare = await cli(['lease']);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/^Error: CLIENT_USAGE: lease needs a subcommand; one of:\n {2}raftkit lease grant TTL/);
  });

  it('snapshot save writes the download to FILE (stand-in server)', async () => {
    const file = 'raftkit-snapshot 1\n{"index":9}\nDATA';
    const stub = await stubServer((app) => {
      app.post('/v1/snapshot', (_req, res) => void res.json({ index: 9, term: 2, size: 4, checksum: 'ab' }));
      app.get('/v1/snapshot', (_req, res) => void res.set({ 'x-raftkit-snapshot-index': '9', 'x-raftkit-snapshot-term': '2', 'content-type': 'application/octet-stream' }).send(Buffer.from(file)));
    });
    const dir = mkdtempSync(join(tmpdir(), 'raftkit-cli-'));
    try {
      const r = await cli(['snapshot', 'save', join(dir, 'b.snap'), '--endpoints', stub.url]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Snapshot saved at .*b\.snap \(index 9, term 2, 35 bytes/);
      expect(readFileSync(join(dir, 'b.snap'), 'utf8')).toBe(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await stub.close();
    }
  });

  it('txn reads the request from stdin (stand-in route); watch prints one line per event until aborted', async () => {
    const stub = await stubServer((app) => {
      app.post('/v1/sessions', (_req, res) => void res.json({ clientId: 1 }));
      app.post('/v1/txn', (_req, res) => void res.json({ revision: 5, succeeded: false, results: [{ op: 'get', value: 'v', encoding: 'json', modRevision: 4, createRevision: 4, version: 1 }] }));
      app.get('/v1/watch', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`id: 6\nevent: put\ndata: ${JSON.stringify({ key: 'w', revision: 6, value: 'x', encoding: 'json' })}\n\nid: 7\nevent: delete\ndata: ${JSON.stringify({ key: 'w', revision: 7 })}\n\n`);
      });
    });
    try {
      const t = await cli(['txn', '--endpoints', stub.url], { stdin: '{"compare":[],"success":[],"failure":[{"op":"get","key":"k"}]}' });
      expect(t).toEqual({ code: 0, out: 'FAILED\nv\n', err: '' });
      expect((await cli(['txn', '--endpoints', stub.url], { stdin: 'not json' })).code).toBe(2);
      const ctl = new AbortController();
      let out = '';
      const code = await runCli(['watch', 'w', '--from-revision', '6', '--endpoints', stub.url], {
        stdout: (x) => {
          out += String(x);
          if (out.split('\n').length > 2) ctl.abort();
        },
        stderr: () => undefined, readStdin: async () => new Uint8Array(), env: {},
      }, ctl.signal);
      expect(code).toBe(0);
      expect(out).toBe('6 PUT w x\n7 DELETE w\n');
    } finally {
      await stub.close();
    }
  });
});
