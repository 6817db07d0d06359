import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inbox, sequencedMessage } from '@raftkit/transport-suite';
import express5 from 'express';
import express4 from 'express4';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../src/index.js';
import { leftoverHandles } from './helpers/handles.js';
import { SECRET, closeAll, startAll, waitFor } from './helpers/net.js';

// The sending side of option `stream`: one stream per peer instead of a request per batch,
// falling back to requests for a peer without the route, reopening after a peer restarts.

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(listener: http.RequestListener): Promise<{ base: string; server: http.Server }> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const burst = (from: string, to: string, start: number, n: number) => Array.from({ length: n }, (_, i) => sequencedMessage(from, to, start + i));

describe('option stream', () => {
  it('carries every message over one stream per direction, no requests, in order', async () => {
    const { transports, inboxes } = await startAll(['a', 'b'], { stream: true, onError: () => {} });
    cleanups.push(() => closeAll(transports));
    const [a, b] = transports;
    for (let i = 0; i < 50; i += 1) a.send(burst('a', 'b', i * 4, 4));
    b.send(burst('b', 'a', 0, 3));
    await waitFor(() => inboxes[1].messages.length === 200 && inboxes[0].messages.length === 3, 'every message');
    expect(inboxes[1].messages).toEqual(burst('a', 'b', 0, 200));
    expect(a.stats().peers.b).toMatchObject({ stream: 'open', streamsOpened: 1, requests: 0, sent: 200, failures: 0 });
    expect(b.stats().peers.a).toMatchObject({ stream: 'open', streamsOpened: 1, requests: 0, received: 200 });
    expect(b.stats().inbound.streams).toBe(1);
  });

  it('on an open stream, what is sent in one task leaves as one frame before the event loop turns', async () => {
    const { transports, inboxes } = await startAll(['a', 'b'], { stream: true, onError: () => {} });
    cleanups.push(() => closeAll(transports));
    const [a] = transports;
    a.send(burst('a', 'b', 0, 1));
    await waitFor(() => a.stats().peers.b!.stream === 'open' && inboxes[1].messages.length === 1, 'the stream open');
    const before = a.stats().peers.b!;
    a.send(burst('a', 'b', 1, 2));
    a.send(burst('a', 'b', 3, 2));
    // Only microtasks have run since: no timer, no I/O, no setImmediate.
    await Promise.resolve();
    const after = a.stats().peers.b!;
    expect(after.sent - before.sent).toBe(4);
    expect(after.requests).toBe(0);
    await waitFor(() => inboxes[1].messages.length === 5, 'every message');
    expect(inboxes[1].messages).toEqual(burst('a', 'b', 0, 5));
  });

  it('falls back to requests, silently, for a peer without the stream route (an older release)', async () => {
    const b = new HttpTransport({ id: 'b', secret: SECRET, onError: () => {} });
    const bInbox = new Inbox();
    await b.start(bInbox);
    let streamOpens = 0;
    const { base } = await serve((req, res) => {
      if (req.url?.startsWith('/raft/v1/stream')) {
        streamOpens += 1;
        res.statusCode = 404;
        return void res.end(JSON.stringify({ error: { code: 'RAFT_HTTP_NOT_FOUND', message: 'no route POST /raft/v1/stream' } }));
      }
      if (!b.handleRequest(req, res)) res.end();
    });
    const errors: Error[] = [];
    const a = new HttpTransport({ id: 'a', secret: SECRET, peers: { b: base }, stream: true, onError: (e) => errors.push(e) });
    b.setPeer('a', 'http://127.0.0.1:1');
    cleanups.push(() => Promise.all([a.close(), b.close()]));
    await a.start(new Inbox());
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => a.stats().peers.b.stream === 'fallback', 'the link to fall back');
    for (let i = 1; i <= 10; i += 1) a.send([sequencedMessage('a', 'b', i)]);
    await waitFor(() => bInbox.messages.length >= 10, 'messages by request');
    expect(streamOpens).toBe(1); // retried only after a long backoff
    expect(a.stats().peers.b.requests).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  for (const [name, makeApp] of [['express 5', express5], ['express 4', express4]] as const) {
    it(`streams through the router mounted under a path in ${name}`, async () => {
      const b = new HttpTransport({ id: 'b', secret: SECRET, onError: () => {} });
      const app = (makeApp as unknown as () => { use(...args: unknown[]): void } & http.RequestListener)();
      app.use('/cluster', b.router());
      const { base } = await serve(app);
      const a = await HttpTransport.listen({ id: 'a', secret: SECRET, peers: { b: `${base}/cluster` }, stream: true, onError: () => {} });
      b.setPeer('a', a.url!);
      cleanups.push(() => Promise.all([a.close(), b.close()]));
      const bInbox = new Inbox();
      await Promise.all([a.start(new Inbox()), b.start(bInbox)]);
      a.send(burst('a', 'b', 0, 5));
      await waitFor(() => bInbox.messages.length === 5, 'five messages');
      expect(a.stats().peers.b).toMatchObject({ stream: 'open', requests: 0 });
    });
  }

  it('reopens the stream after the peer restarts mid-stream', async () => {
    const a = await HttpTransport.listen({ id: 'a', secret: SECRET, stream: true, onError: () => {} });
    let b = await HttpTransport.listen({ id: 'b', secret: SECRET, peers: { a: a.url! }, onError: () => {} });
    const port = Number(new URL(b.url!).port);
    a.setPeer('b', b.url!);
    cleanups.push(() => Promise.all([a.close(), b.close()]));
    let bInbox = new Inbox();
    await Promise.all([a.start(new Inbox()), b.start(bInbox)]);
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => bInbox.messages.length === 1 && a.stats().peers.b.stream === 'open', 'the first stream');
    await b.close();
    b = await HttpTransport.listen({ id: 'b', secret: SECRET, peers: { a: a.url! }, port, onError: () => {} });
    bInbox = new Inbox();
    await b.start(bInbox);
    let n = 1;
    await waitFor(() => {
      a.send([sequencedMessage('a', 'b', n++)]);
      return a.stats().peers.b.streamsOpened === 2 && b.stats().inbound.streams === 1;
    }, `a second stream to the restarted peer ${JSON.stringify(a.stats().peers.b)}`, 10_000);
    const before = bInbox.messages.length;
    a.send([sequencedMessage('a', 'b', n)]);
    await waitFor(() => bInbox.messages.length >= before + 1, 'a message on the new stream');
  }, 15_000);

  it('drops instead of buffering when the peer stops reading, then gives the stream up', async () => {
    const held: http.IncomingMessage[] = [];
    const { base } = await serve((req, res) => {
      res.writeHead(200);
      res.flushHeaders();
      req.pause(); // accepts the stream, never reads it
      held.push(req);
    });
    const a = new HttpTransport({ id: 'a', secret: SECRET, peers: { b: base }, stream: true, timeoutMs: 500, maxQueuedMessages: 100, onError: () => {} });
    cleanups.push(() => a.close());
    await a.start(new Inbox());
    const big = (i: number) => ({ type: 'append' as const, from: 'a', to: 'b', term: 1, prevIndex: i, prevTerm: 1, commit: 0, entries: [{ index: i + 1, term: 1, type: 0 as const, data: new Uint8Array(64 * 1024) }] });
    a.send([big(0)]);
    await waitFor(() => a.stats().peers.b.stream === 'open', 'the stream to open');
    for (let i = 1; i < 400; i += 1) a.send([big(i)]);
    await waitFor(() => a.stats().peers.b.dropped > 0, `drops on a full queue ${JSON.stringify(a.stats().peers.b)}`, 2000);
    expect(a.stats().peers.b.queued).toBeLessThanOrEqual(100);
    await waitFor(() => a.stats().peers.b.stream === 'fallback', 'the stalled stream to be given up', 5000);
  });

  it('close() ends open streams in both directions and leaves no handle', async () => {
    const leftovers = await leftoverHandles(async () => {
      const { transports, inboxes } = await startAll(['a', 'b'], { stream: true, onError: () => {} });
      transports[0].send([sequencedMessage('a', 'b', 0)]);
      transports[1].send([sequencedMessage('b', 'a', 0)]);
      await waitFor(() => transports.every((t) => t.stats().inbound.streams === 1) && inboxes.every((i) => i.messages.length === 1), 'streams both ways');
      await closeAll(transports);
      expect(transports.map((t) => t.stats().inbound.streams)).toEqual([0, 0]);
    });
    expect(leftovers).toEqual([]);
  });
});
