import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HeartbeatRequest } from '@raftkit/core';
import { Inbox, samplesOfType } from '@raftkit/transport-suite';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpErrorCode, HttpTransport, MESSAGES_PATH, encodeMessages } from '../src/index.js';
import { SECRET } from './helpers/net.js';
import { call, signedHeaders } from './helpers/requests.js';

// handleRequest is the raw messages endpoint a server calls ahead of its express app: it must
// take exactly the messages path, leave everything else to the app, and answer like the router.
let n1: HttpTransport;
let n2: HttpTransport;
const inbox = new Inbox();
let server: http.Server;
let url: string;
/** Requests the express app saw, by path: what handleRequest declined. */
const reachedApp: string[] = [];

beforeAll(async () => {
  n1 = await HttpTransport.listen({ id: 'n1', secret: SECRET });
  n2 = new HttpTransport({ id: 'n2', secret: SECRET, peers: { n1: n1.url! } });
  const app = express();
  app.use((req, _res, next) => {
    reachedApp.push(req.url);
    next();
  });
  app.use(n2.router());
  app.use((_req, res) => void res.status(404).json({ from: 'app' }));
  server = http.createServer((req, res) => {
    if (!n2.handleRequest(req, res)) app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  n1.setPeer('n2', url);
  await n1.start(new Inbox());
  await n2.start(inbox);
});
afterAll(async () => {
  await Promise.all([n1.close(), n2.close()]);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const heartbeat = (): HeartbeatRequest => samplesOfType('heartbeat', 'n1', 'n2')[0];

describe('HttpTransport.handleRequest', () => {
  it('delivers a signed batch on the messages path (and a query string) without the app', async () => {
    reachedApp.length = 0;
    const body = encodeMessages([heartbeat()]);
    const before = inbox.messages.length;
    for (const path of [MESSAGES_PATH, `${MESSAGES_PATH}?probe=1`]) {
      const answer = await call(url, { path, body, headers: signedHeaders(body) });
      expect(answer.status).toBe(204);
    }
    expect(inbox.messages.length).toBe(before + 2);
    expect(reachedApp).toEqual([]);
  });

  it('refuses like the router: an unsigned request gets 401 RAFT_HTTP_UNAUTHORIZED, a GET 405', async () => {
    reachedApp.length = 0;
    const body = encodeMessages([heartbeat()]);
    const unsigned = await call(url, { body, headers: { 'content-type': 'application/vnd.raftkit.batch' } });
    expect(unsigned.status).toBe(401);
    expect((unsigned.body as { error: { code: string } }).error.code).toBe(HttpErrorCode.Unauthorized);
    const get = await call(url, { method: 'GET' });
    expect(get.status).toBe(405);
    expect(reachedApp).toEqual([]);
  });

  it('leaves every other path to the app, which still serves the router there (a trailing slash)', async () => {
    reachedApp.length = 0;
    const other = await call(url, { path: '/raft/v1/other', method: 'GET' });
    expect(other.body).toEqual({ from: 'app' });
    const body = encodeMessages([heartbeat()]);
    const slash = await call(url, { path: `${MESSAGES_PATH}/`, body, headers: signedHeaders(body) });
    expect(slash.status).toBe(204);
    expect(reachedApp).toEqual(['/raft/v1/other', `${MESSAGES_PATH}/`]);
  });

  it('carries a transport-to-transport exchange: n1 sends through it and n2 delivers', async () => {
    const before = inbox.messages.length;
    n1.send([heartbeat()]);
    await expect.poll(() => inbox.messages.length, { timeout: 5000 }).toBe(before + 1);
  });
});
