// kvLane: /v1/kv/{key} requests pass the given chain without the app's router, with what the
// router's handlers rely on (express's request and response methods, req.query, originalUrl).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { expressServerClasses } from '@raftkit/kv-http';
import { afterEach, describe, expect, test } from 'vitest';
import { kvLane } from '../src/kvLane.js';

let server: http.Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = null;
});

interface Seen {
  routerLayers: number;
  finished: unknown[];
}

async function start(chain: express.RequestHandler, born: boolean): Promise<{ base: string; seen: Seen }> {
  const seen: Seen = { routerLayers: 0, finished: [] };
  const app = express();
  app.use((_req, _res, next) => {
    seen.routerLayers++;
    next();
  });
  app.use((_req, res) => res.status(299).json({ via: 'app' }));
  const lane = kvLane(app, chain, (_req: Request, res: Response, err?: unknown) => {
    seen.finished.push(err);
    res.status(err === undefined ? 404 : 500).json({ finished: err === undefined ? null : String(err) });
  });
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!lane(req, res)) app(req, res);
  };
  server = born ? http.createServer(expressServerClasses(app), listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

describe('kvLane', () => {
  for (const born of [true, false]) {
    test(`a key request runs the chain with express's request and response, and never the app's router (${born ? 'born with the prototypes' : 'plain node:http objects'})`, async () => {
      const { base, seen } = await start((req, res) => {
        expect(req.res).toBe(res);
        expect(res.req).toBe(req);
        res.setHeader('x-original-url', req.originalUrl);
        res.status(201).json({ path: req.path, query: req.query, header: req.get('x-test') ?? null, baseUrl: req.baseUrl, locals: typeof res.locals });
      }, born);
      const r = await fetch(`${base}/v1/kv/a%2Fb?consistency=lease&x=1`, { headers: { 'x-test': 'yes' } });
      expect(r.status).toBe(201);
      expect(r.headers.get('x-original-url')).toBe('/v1/kv/a%2Fb?consistency=lease&x=1');
      expect(await r.json()).toEqual({ path: '/v1/kv/a%2Fb', query: { consistency: 'lease', x: '1' }, header: 'yes', baseUrl: '', locals: 'object' });
      expect(seen.routerLayers).toBe(0);
      // Anything else is the app's.
      for (const path of ['/v1/kv', '/v1/kvx/a', '/v1/status', '/']) {
        const other = await fetch(base + path);
        expect(other.status, path).toBe(299);
      }
      expect(seen.routerLayers).toBe(4);
      expect(seen.finished).toEqual([]);
    });
  }

  test('what the chain passes on is finished: an error as an error, nothing (or "route") as not found', async () => {
    let pass: unknown = undefined;
    const { base, seen } = await start((_req, _res, next) => next(pass), true);
    expect((await fetch(`${base}/v1/kv/k`)).status).toBe(404);
    pass = 'route';
    expect((await fetch(`${base}/v1/kv/k`)).status).toBe(404);
    pass = new Error('boom');
    const r = await fetch(`${base}/v1/kv/k`, { method: 'PUT', body: 'x' });
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ finished: 'Error: boom' });
    expect(seen.finished.map((e) => (e === undefined ? 'none' : String(e)))).toEqual(['none', 'none', 'Error: boom']);
    expect(seen.routerLayers).toBe(0);
  });

  test('a redirect from the chain names the whole original URL (the drain gate and follower redirects use it)', async () => {
    const { base } = await start((req, res) => res.redirect(307, `http://leader.example${req.originalUrl}`), true);
    const r = await fetch(`${base}/v1/kv/k?consistency=linearizable`, { redirect: 'manual' });
    expect(r.status).toBe(307);
    expect(r.headers.get('location')).toBe('http://leader.example/v1/kv/k?consistency=linearizable');
  });
});
