// expressServerClasses: requests and responses born with an express app's prototypes, on
// express 4 and 5. The first `request` listener sees each object as node created it, before
// express touched it: with the classes its prototype already is the app's (without them it is
// node's, which express then replaces: the slow path this avoids).
import http from 'node:http';
import v8 from 'node:v8';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import { afterEach, describe, expect, it } from 'vitest';
import { expressServerClasses } from '../src/index.js';

type App = ReturnType<typeof express5>;

// V8's own test of an object's property storage: a dictionary-mode ("slow properties") object
// makes every property access on it a hash lookup.
v8.setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

interface Seen {
  readonly requestBorn: boolean;
  readonly responseBorn: boolean;
}

/** Serves `app` on 127.0.0.1:0, recording each request's prototypes as node created them. */
async function serve(app: App, options: http.ServerOptions): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer(options);
  server.on('request', (req, res) => seen.push({ requestBorn: Object.getPrototypeOf(req) === app.request, responseBorn: Object.getPrototypeOf(res) === app.response }));
  server.on('request', app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** An app using the express features the routes use: params, query, req.get, status/json, redirect, errors. */
function appOf(make: () => App): App {
  const app = make();
  app.set('etag', false);
  app.get('/items/:id', (req, res) => {
    res.status(201).json({ id: req.params.id, q: req.query.q, host: req.get('host'), same: Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response });
  });
  app.get('/away', (_req, res) => res.redirect(307, '/items/9'));
  app.get('/fail', () => {
    throw new Error('boom');
  });
  app.use((err: Error, _req: express5.Request, res: express5.Response, _next: express5.NextFunction) => res.status(500).json({ error: err.message }));
  return app;
}

for (const [name, make] of [['express 5', () => express5()], ['express 4', () => express4() as unknown as App]] as const) {
  describe(`expressServerClasses on ${name}`, () => {
    it('creates every request and response with the app\'s prototypes, and express works on them as before', async () => {
      const app = appOf(make);
      const { url, seen } = await serve(app, expressServerClasses(app));
      const r = await fetch(`${url}/items/7?q=x`);
      expect(r.status).toBe(201);
      expect(await r.json()).toEqual({ id: '7', q: 'x', host: new URL(url).host, same: true });
      const away = await fetch(`${url}/away`, { redirect: 'manual' });
      expect([away.status, away.headers.get('location')]).toEqual([307, '/items/9']);
      const fail = await fetch(`${url}/fail`);
      expect([fail.status, await fail.json()]).toEqual([500, { error: 'boom' }]);
      expect(seen).toHaveLength(3);
      expect(seen.every((s) => s.requestBorn && s.responseBorn)).toBe(true);
    });

    it('its requests and responses keep fast properties, as node creates them and after express handled them', async () => {
      const app = appOf(make);
      const fast: boolean[][] = [];
      app.get('/fast', (req, res) => {
        fast.push([hasFastProperties(req), hasFastProperties(res)]);
        res.json({ ok: true });
      });
      const server = http.createServer(expressServerClasses(app));
      server.on('request', (req, res) => fast.push([hasFastProperties(req), hasFastProperties(res)]));
      server.on('request', app);
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (let i = 0; i < 3; i++) expect((await fetch(`${url}/fast`)).status).toBe(200);
      expect(fast).toEqual(Array.from({ length: 6 }, () => [true, true]));
    });

    it('without them node creates plain objects, which express re-prototypes (the slow path)', async () => {
      const app = appOf(make);
      const { url, seen } = await serve(app, {});
      const r = await fetch(`${url}/items/7?q=x`);
      expect(((await r.json()) as { same: boolean }).same).toBe(true);
      expect(seen).toEqual([{ requestBorn: false, responseBorn: false }]);
    });
  });
}

describe('expressServerClasses arguments', () => {
  it('refuses an object that is not an express app, naming what is wrong', () => {
    expect(() => expressServerClasses({ request: {}, response: {} })).toThrow(/app\.request must be an express app's request prototype/);
    expect(() => expressServerClasses({ request: Object.create(http.IncomingMessage.prototype), response: null as unknown as object })).toThrow(/app\.response .* got null/);
  });

  it('returns classes whose instances are node\'s own request and response types, and makes their prototypes the app\'s', () => {
    const app = express5();
    const [request, response] = [app.request, app.response];
    const classes = expressServerClasses(app);
    expect(classes.IncomingMessage.prototype).toBe(app.request);
    expect(classes.ServerResponse.prototype).toBe(app.response);
    // The app's originals (and anything added to them) are inherited.
    expect(Object.getPrototypeOf(app.request)).toBe(request);
    expect(Object.getPrototypeOf(app.response)).toBe(response);
    expect(app.request instanceof http.IncomingMessage && app.response instanceof http.ServerResponse).toBe(true);
  });
});
