import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Inbox, sequencedMessage } from '@raftkit/transport-suite';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../src/index.js';
import { RaftHeaders } from '../src/protocol.js';
import { SECRET, waitFor } from './helpers/net.js';

// Option `stream` when the stream itself fails: an open nobody answers (a proxy that buffers
// whole bodies), a peer that dies while its stream is idle, a connection that goes silent
// (a vanished host, a middlebox that dropped it). In each, the next message goes by request
// within a bound instead of waiting for the request timeout (5 s) in a dead stream.

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    if (server instanceof http.Server) server.closeAllConnections();
    server.close(() => resolve());
  }));
  return (server.address() as AddressInfo).port;
}

/** Peer `b` behind a server whose stream route `onStream` may take over; the rest goes to b. */
async function peerB(onStream?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): Promise<{ b: HttpTransport; inbox: Inbox; base: string; streamSockets: net.Socket[] }> {
  const b = new HttpTransport({ id: 'b', secret: SECRET, peers: { a: 'http://127.0.0.1:1' }, onError: () => {} });
  const inbox = new Inbox();
  await b.start(inbox);
  cleanups.push(() => b.close());
  const streamSockets: net.Socket[] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/raft/v1/stream')) {
      streamSockets.push(req.socket);
      if (onStream?.(req, res)) return;
    }
    if (!b.handleRequest(req, res)) res.end();
  });
  const port = await listen(server);
  return { b, inbox, base: `http://127.0.0.1:${port}`, streamSockets };
}

function sender(base: string, extra: Partial<ConstructorParameters<typeof HttpTransport>[0]> = {}): HttpTransport {
  const a = new HttpTransport({ id: 'a', secret: SECRET, peers: { b: base }, stream: true, onError: () => {}, ...extra });
  cleanups.push(() => a.close());
  return a;
}

describe('option stream, when the stream fails', () => {
  it('an open that gets no answer (a body-buffering proxy) falls back to requests after streamOpenTimeoutMs, not timeoutMs', async () => {
    let opens = 0;
    const { inbox, base } = await peerB(() => {
      opens += 1;
      return true; // holds the open: no answer, ever
    });
    const a = sender(base, { timeoutMs: 5000 });
    await a.start(new Inbox());
    const sentAt = performance.now();
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => inbox.messages.length === 1, 'the message, by request', 2500);
    const tookMs = performance.now() - sentAt;
    expect(tookMs).toBeGreaterThanOrEqual(900); // it waited for the open (default 1000 ms)...
    expect(tookMs).toBeLessThan(2500); // ...and not for timeoutMs
    expect(a.stats().peers.b).toMatchObject({ stream: 'fallback', requests: 1, streamsOpened: 0 });
    // The next messages go by request at once; the open is not retried soon (15-30 s).
    for (let i = 1; i <= 20; i += 1) {
      a.send([sequencedMessage('a', 'b', i)]);
      await waitFor(() => inbox.messages.length === i + 1, `message ${i} by request`, 500);
    }
    expect(inbox.messages).toEqual(Array.from({ length: 21 }, (_, i) => sequencedMessage('a', 'b', i)));
    expect(opens).toBe(1);
  });

  it('a peer whose stream socket closes while the stream is idle (its process died): noticed at once, the next message goes by request', async () => {
    const { inbox, base, streamSockets } = await peerB();
    const a = sender(base);
    await a.start(new Inbox());
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => inbox.messages.length === 1 && a.stats().peers.b.stream === 'open', 'the stream');
    streamSockets[0]!.destroy(); // what the kernel does to a SIGKILLed process's sockets
    await waitFor(() => a.stats().peers.b.stream === 'fallback', `the link to notice with nothing to send ${JSON.stringify(a.stats().peers.b)}`, 1000);
    const sentAt = performance.now();
    a.send([sequencedMessage('a', 'b', 1)]);
    await waitFor(() => inbox.messages.length === 2, 'the next message, by request', 1000);
    expect(performance.now() - sentAt).toBeLessThan(1000);
    expect(inbox.messages).toEqual([sequencedMessage('a', 'b', 0), sequencedMessage('a', 'b', 1)]);
    expect(a.stats().peers.b).toMatchObject({ requests: 1, failures: 1, streamsOpened: 1 });
  });

  it('a peer process SIGKILLed while its stream is idle: the next message is tried by request within a bound', async () => {
    // A real process accepting the stream (200, then reading frames) and answering requests 204.
    const script = fileURLToPath(new URL('./helpers/idlePeer.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    const lines: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.trim().split('\n')));
    await waitFor(() => lines.length > 0, 'the peer process to listen');
    const port = Number(lines[0]);
    const unreachable: number[] = [];
    const a = sender(`http://127.0.0.1:${port}`);
    await a.start({ onMessage: () => {}, onUnreachable: () => unreachable.push(performance.now()) });
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => a.stats().peers.b.stream === 'open' && lines.some((l) => l.startsWith('read ')), 'the stream and its first frame read');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await waitFor(() => a.stats().peers.b.stream === 'fallback', `the link to notice with nothing to send ${JSON.stringify(a.stats().peers.b)}`, 1000);
    const sentAt = performance.now();
    a.send([sequencedMessage('a', 'b', 1)]);
    await waitFor(() => unreachable.length > 0, 'the request to the dead peer to fail', 1000);
    expect(unreachable[0]! - sentAt).toBeLessThan(1000);
    expect(a.stats().peers.b).toMatchObject({ requests: 1, sent: 1 });
  });

  it('a stream gone silent (a connection black-holed without a FIN) breaks after streamAckTimeoutMs; the next message goes by request', async () => {
    const { inbox, base } = await peerB();
    const target = Number(new URL(base).port);
    // A TCP relay that can stop forwarding the connections it has, keeping them open.
    let silent = false;
    const relay = net.createServer((client) => {
      const upstream = net.connect(target, '127.0.0.1');
      const born = silent;
      client.on('data', (d) => void (!silent || born ? upstream.write(d) : undefined));
      upstream.on('data', (d) => void (!silent || born ? client.write(d) : undefined));
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    const relayPort = await listen(relay);
    const a = sender(`http://127.0.0.1:${relayPort}`, { streamAckTimeoutMs: 300 });
    await a.start(new Inbox());
    for (let i = 0; i < 3; i += 1) a.send([sequencedMessage('a', 'b', i)]);
    await waitFor(() => inbox.messages.length === 3 && a.stats().peers.b.stream === 'open', 'the stream');
    silent = true; // connections made from now on pass; the stream's goes quiet both ways
    const lostAt = performance.now();
    a.send([sequencedMessage('a', 'b', 3)]); // written into the silent stream: lost
    await waitFor(() => a.stats().peers.b.stream === 'fallback', `the silent stream to be given up ${JSON.stringify(a.stats().peers.b)}`, 2000);
    expect(performance.now() - lostAt).toBeGreaterThanOrEqual(250);
    a.send([sequencedMessage('a', 'b', 4)]);
    await waitFor(() => inbox.messages.length === 4, 'the next message, by request', 1000);
    expect(inbox.messages).toEqual([0, 1, 2, 4].map((i) => sequencedMessage('a', 'b', i)));
    expect(a.stats().peers.b).toMatchObject({ failures: 1, requests: 1 });
  });

  it('a peer that sends no acks (an earlier release) is not held to streamAckTimeoutMs', async () => {
    const { inbox, base } = await peerB((req) => {
      delete req.headers[RaftHeaders.streamAcks];
      return false;
    });
    const a = sender(base, { streamAckTimeoutMs: 50 });
    await a.start(new Inbox());
    for (let i = 0; i < 8; i += 1) {
      a.send([sequencedMessage('a', 'b', i)]);
      await waitFor(() => inbox.messages.length === i + 1, `message ${i}`);
      // More than the ack timeout between messages.
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    expect(a.stats().peers.b).toMatchObject({ stream: 'open', streamsOpened: 1, requests: 0, failures: 0 });
  });

  it('a live peer acks: a stream kept busy past many ack timeouts never breaks', async () => {
    const { b, inbox, base } = await peerB();
    const a = sender(base, { streamAckTimeoutMs: 100 });
    await a.start(new Inbox());
    const until = performance.now() + 600;
    let n = 0;
    while (performance.now() < until) {
      a.send([sequencedMessage('a', 'b', n)]);
      n += 1;
      await waitFor(() => inbox.messages.length === n, `message ${n}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(a.stats().peers.b).toMatchObject({ stream: 'open', streamsOpened: 1, requests: 0, failures: 0 });
    expect(b.stats().peers.a!.received).toBe(n);
  });
});
