import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sequencedMessage, Inbox } from '@raftkit/transport-suite';
import express5 from 'express';
import express4 from 'express4';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpErrorCode, HttpTransport, type RaftMiddleware } from '../src/index.js';
import { SECRET, waitFor } from './helpers/net.js';
import { call, signedHeaders } from './helpers/requests.js';

// router() is a plain (req, res, next) function: it must route like express's
// `router.all('/raft/v1/messages')` did, mounted at the root or under a path, in both majors.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type AppFactory = () => { use(...args: unknown[]): unknown; (req: http.IncomingMessage, res: http.ServerResponse): void };
const majors: [string, AppFactory][] = [
  ['express 5', express5 as unknown as AppFactory],
  ['express 4', express4 as unknown as AppFactory],
];

async function serve(listener: http.RequestListener): Promise<string> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe.each(majors)('router() in %s', (_name, makeApp) => {
  for (const mount of ['', '/some/mount']) {
    it(`serves the endpoint mounted at '${mount || '/'}' and passes everything else on`, async () => {
      const b = new HttpTransport({ id: 'b', secret: SECRET, onError: () => {} });
      const middleware: RaftMiddleware = b.router();
      const app = makeApp();
      if (mount) app.use(mount, middleware);
      else app.use(middleware);
      app.use((_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.statusCode = 404;
        res.end('app fallthrough');
      });
      const base = await serve(app);
      const a = new HttpTransport({ id: 'a', secret: SECRET, peers: { b: `${base}${mount}` }, onError: () => {} });
      cleanups.push(() => Promise.all([a.close(), b.close()]).then(() => {}));
      b.setPeer('a', 'http://127.0.0.1:1');
      const inbox = new Inbox();
      await Promise.all([a.start(new Inbox()), b.start(inbox)]);
      a.send([sequencedMessage('a', 'b', 0)]);
      await waitFor(() => inbox.messages.length === 1, 'the message through the mounted middleware');

      const body = new Uint8Array(1);
      // Letter case, a trailing slash and a query string all reach the endpoint (a coded refusal).
      for (const path of ['/raft/v1/messages', '/RAFT/v1/Messages', '/raft/v1/messages/', '/raft/v1/messages?x=1']) {
        const answer = await call(`${base}${mount}`, { path, body, headers: signedHeaders(body, { to: 'b' }) });
        expect(answer.body, path).toMatchObject({ error: { code: expect.stringMatching(/^RAFT_/) } });
      }
      // Anything else goes to next().
      for (const path of [`${mount}/raft/v1/messages/x`, `${mount}/raft/v1`, `${mount}/other`, ...(mount ? ['/raft/v1/messages'] : [])]) {
        const res = await fetch(`${base}${path}`, { method: 'POST', body });
        expect(await res.text(), path).toBe('app fallthrough');
      }
    });
  }
});

describe('standalone listen()', () => {
  it('answers other paths with the coded 404 and matches the endpoint like the middleware', async () => {
    const b = await HttpTransport.listen({ id: 'b', secret: SECRET, onError: () => {} });
    cleanups.push(() => b.close());
    const body = new Uint8Array(1);
    const notFound = await call(b.url!, { path: '/metrics?x=1', method: 'GET' });
    expect(notFound).toMatchObject({ status: 404, body: { error: { code: HttpErrorCode.NotFound, message: 'no route GET /metrics' } } });
    const slash = await call(b.url!, { path: '/raft/v1/messages/', body });
    expect(slash.body).not.toMatchObject({ error: { code: HttpErrorCode.NotFound } });
    expect(slash.body).toMatchObject({ error: { code: expect.stringMatching(/^RAFT_/) } });
  });
});
