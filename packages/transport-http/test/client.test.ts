import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ErrorCode, isRaftError, seededRandom } from '@raftkit/core';
import type { Message } from '@raftkit/core';
import { Inbox, sequenceOf, sequencedMessage } from '@raftkit/transport-suite';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpErrorCode, HttpTransport, HttpTransportError } from '../src/index.js';
import { SECRET, closeAll, startAll, waitFor } from './helpers/net.js';
import { call } from './helpers/requests.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(ids: string[], extra = {}): Promise<{ transports: HttpTransport[]; inboxes: Inbox[] }> {
  const cluster = await startAll(ids, extra);
  cleanups.push(() => closeAll(cluster.transports));
  return cluster;
}

const seqs = (messages: readonly Message[]): number[] => messages.map(sequenceOf);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** Serves `app` on 127.0.0.1 until the test ends; returns its base URL. */
async function serve(app: express.Express, path = ''): Promise<string> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
}

/** A port nothing listens on (closed again right after the OS picked it). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('batching and per-peer order', () => {
  it('messages sent in one tick travel in one request', async () => {
    const { transports: [a], inboxes } = await started(['a', 'b']);
    for (let i = 0; i < 300; i++) a.send([sequencedMessage('a', 'b', i)]);
    await waitFor(() => a.stats().peers.b.sent === 300, '300 messages acknowledged');
    expect(seqs(inboxes[1].messages)).toEqual(range(0, 300));
    const stats = a.stats().peers.b;
    expect(stats).toMatchObject({ requests: 1, sent: 300, dropped: 0, failures: 0 });
    expect(stats.bytesSent).toBeGreaterThan(300 * 20);
  });

  it('coalesces everything queued while a request is in flight into the next request', async () => {
    const b = new HttpTransport({ id: 'b', secret: SECRET });
    const app = express();
    // A slow peer: the first request stays in flight while the sender keeps sending.
    app.use((_req, _res, next) => void setTimeout(next, 150));
    app.use(b.router());
    const base = await serve(app);
    const a = await HttpTransport.listen({ id: 'a', secret: SECRET, peers: { b: base } });
    cleanups.push(() => closeAll([a, b]));
    b.setPeer('a', a.url!);
    const inbox = new Inbox();
    await Promise.all([a.start(new Inbox()), b.start(inbox)]);
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => a.stats().peers.b.requests === 1, 'the first request to leave');
    for (let i = 1; i < 100; i++) {
      a.send([sequencedMessage('a', 'b', i)]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => a.stats().peers.b.sent === 100, '100 messages acknowledged');
    expect(seqs(inbox.messages)).toEqual(range(0, 100));
    expect(a.stats().peers.b.requests).toBe(2);
  });

  it('drops the oldest messages when the queue overflows, and counts them', async () => {
    const { transports: [a], inboxes } = await started(['a', 'b'], { maxQueuedMessages: 10 });
    a.send(range(0, 100).map((i) => sequencedMessage('a', 'b', i)));
    await waitFor(() => a.stats().peers.b.sent === 10, 'the 10 newest messages acknowledged');
    expect(seqs(inboxes[1].messages)).toEqual(range(90, 100));
    expect(a.stats().peers.b).toMatchObject({ dropped: 90, sent: 10 });
  });

  it('splits a large queue into requests of at most maxBatchBytes, in order', async () => {
    const { transports: [a], inboxes } = await started(['a', 'b'], { maxBatchBytes: 4096 });
    a.send(range(0, 1000).map((i) => sequencedMessage('a', 'b', i)));
    await waitFor(() => inboxes[1].messages.length === 1000, '1000 messages');
    expect(seqs(inboxes[1].messages)).toEqual(range(0, 1000));
    expect(a.stats().peers.b.requests).toBeGreaterThan(5);
  });
});

describe('unreachable peers', () => {
  it('reports a closed port, backs off longer after each failure, and resumes once the peer is up', async () => {
    const port = await closedPort();
    const options = { secret: SECRET, backoff: { initialMs: 10, maxMs: 400 }, random: seededRandom(7) };
    const a = await HttpTransport.listen({ id: 'a', peers: { b: `http://127.0.0.1:${port}` }, ...options });
    cleanups.push(() => a.close());
    const inboxA = new Inbox();
    await a.start(inboxA);
    const backoffByFailures = new Map<number, number>();
    let seq = 0;
    await waitFor(() => {
      expect(() => a.send([sequencedMessage('a', 'b', seq++)])).not.toThrow();
      const { consecutiveFailures, backoffMs } = a.stats().peers.b;
      backoffByFailures.set(consecutiveFailures, backoffMs);
      return consecutiveFailures >= 5;
    }, 'five consecutive failures');
    const waits = [1, 2, 3, 4, 5].map((n) => backoffByFailures.get(n)!);
    waits.forEach((w, i) => i > 0 && expect(w).toBeGreaterThanOrEqual(waits[i - 1]));
    expect(waits[4]).toBeGreaterThan(waits[0]);
    expect(inboxA.unreachable.length).toBeGreaterThanOrEqual(5);
    expect(new Set(inboxA.unreachable)).toEqual(new Set(['b']));
    expect(a.stats().peers.b.dropped).toBeGreaterThanOrEqual(5);

    const b = await HttpTransport.listen({ id: 'b', port, peers: { a: a.url! }, ...options });
    cleanups.push(() => b.close());
    const inboxB = new Inbox();
    await b.start(inboxB);
    await waitFor(() => {
      a.send([sequencedMessage('a', 'b', seq++)]);
      return inboxB.messages.length > 0;
    }, 'delivery to b once it is up');
    // The sender learns of its success from the response, just after b has delivered.
    await waitFor(() => a.stats().peers.b.sent > 0, 'the acknowledgement');
    expect(a.stats().peers.b).toMatchObject({ consecutiveFailures: 0, backoffMs: 0 });
  });

  it('gives up on a peer that accepts but never answers after timeoutMs', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      sockets.forEach((s) => s.destroy());
      silent.close(() => resolve());
    }));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const a = await HttpTransport.listen({ id: 'a', secret: SECRET, peers: { b: url }, timeoutMs: 100 });
    cleanups.push(() => a.close());
    const inbox = new Inbox();
    await a.start(inbox);
    const started = Date.now();
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => inbox.unreachable.includes('b'), 'timeout reported as unreachable');
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(a.stats().peers.b).toMatchObject({ requests: 1, failures: 1, dropped: 1, sent: 0 });
  });

  it('a peer refusing our requests (secret mismatch) is reported unreachable and to onError', async () => {
    const errors: Error[] = [];
    const a = await HttpTransport.listen({ id: 'a', secret: SECRET, onError: (e) => errors.push(e) });
    const b = await HttpTransport.listen({ id: 'b', secret: 'a-different-cluster-secret', peers: { a: a.url! } });
    cleanups.push(() => closeAll([a, b]));
    a.setPeer('b', b.url!);
    const inboxes = [new Inbox(), new Inbox()];
    await a.start(inboxes[0]);
    await b.start(inboxes[1]);
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => inboxes[0].unreachable.includes('b'), 'b unreachable');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HttpTransportError);
    expect(errors[0]).toMatchObject({ code: HttpErrorCode.PeerRejected, status: 401 });
    expect(errors[0].message).toMatch(/RAFT_HTTP_UNAUTHORIZED/);
    expect(inboxes[1].messages).toEqual([]);
  });
});

describe('send never throws', () => {
  it('drops malformed messages, reports them to onError, and still sends the rest', async () => {
    const errors: Error[] = [];
    const { transports: [a], inboxes } = await started(['a', 'b'], { onError: (e: Error) => errors.push(e) });
    const good = sequencedMessage('a', 'b', 1);
    const bad = [null, { ...good, term: 2 ** 53 }, { ...good, from: 'someone-else' }, { ...good, type: 'gossip' }];
    expect(() => a.send([...bad, good] as Message[])).not.toThrow();
    expect(() => a.send('nonsense' as unknown as Message[])).not.toThrow();
    await waitFor(() => inboxes[1].messages.length === 1, 'the good message');
    expect(errors).toHaveLength(4);
    errors.forEach((e) => expect(isRaftError(e, ErrorCode.BadMessage)).toBe(true));
    expect(a.stats().invalidMessages).toBe(4);
  });

  it('sends nothing before start() and after close()', async () => {
    const [a, b] = await Promise.all(['a', 'b'].map((id) => HttpTransport.listen({ id, secret: SECRET })));
    cleanups.push(() => closeAll([a, b]));
    a.setPeer('b', b.url!);
    const inbox = new Inbox();
    await b.start(inbox);
    a.send([sequencedMessage('a', 'b', 0)]);
    await a.close();
    a.send([sequencedMessage('a', 'b', 1)]);
    await expect(a.start(new Inbox())).rejects.toMatchObject({ code: ErrorCode.Stopped });
    expect(a.stats().peers.b.requests).toBe(0);
  });
});

describe('embedding', () => {
  it('works as a router mounted under a path in an existing express app, and answers 503 once closed', async () => {
    const b = new HttpTransport({ id: 'b', secret: SECRET });
    const app = express();
    app.use('/cluster', b.router());
    const base = await serve(app, '/cluster');
    const a = await HttpTransport.listen({ id: 'a', secret: SECRET, peers: { b: base } });
    cleanups.push(() => a.close());
    b.setPeer('a', a.url!);
    const inboxes = [new Inbox(), new Inbox()];
    await a.start(inboxes[0]);
    await b.start(inboxes[1]);
    a.send([sequencedMessage('a', 'b', 0)]);
    b.send([sequencedMessage('b', 'a', 1)]);
    await waitFor(() => inboxes[1].messages.length === 1 && inboxes[0].messages.length === 1, 'both directions');
    await b.close();
    const answer = await call(base, { body: new Uint8Array(1) });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ error: { code: HttpErrorCode.Unavailable } });
  });

  it('refuses bad options with RAFT_INVALID_CONFIG', () => {
    const bad = [
      { id: 'a', secret: 'short' },
      { id: 'a' } as unknown as { id: string; secret: string },
      { id: '', secret: SECRET },
      { id: 'a', secret: SECRET, peers: { b: 'ftp://x' } },
      { id: 'a', secret: SECRET, peers: { b: 'not a url' } },
      { id: 'a', secret: SECRET, timeoutMs: 0 },
      { id: 'a', secret: SECRET, backoff: { initialMs: 100, maxMs: 10 } },
    ];
    for (const options of bad) expect(() => new HttpTransport(options)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
  });

  it('start() twice is refused', async () => {
    const a = new HttpTransport({ id: 'a', secret: SECRET });
    cleanups.push(() => a.close());
    await a.start(new Inbox());
    await expect(a.start(new Inbox())).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
  });
});
