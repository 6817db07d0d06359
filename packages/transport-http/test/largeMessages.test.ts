// Issue 9 item 3: a state over 64 MiB could never reach a lagging follower (every snapshot got
// 413 RAFT_HTTP_BODY_TOO_LARGE, forever, unnoticed). Snapshots travel alone under their own
// limit (maxSnapshotBytes, 1 GiB), and a message a peer still refuses as too large is reported.
// Since issue 12 a snapshot streams as chunks: a chunk is what travels alone under that limit.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { crc32c } from '@raftkit/core';
import type { HeartbeatRequest, Message, SnapshotChunkRequest } from '@raftkit/core';
import { Inbox, MiB, largeAppend, largeChunk, samplesOfType, sha256Hex } from '@raftkit/transport-suite';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpErrorCode, HttpTransport, HttpTransportError, MESSAGES_PATH } from '../src/index.js';
import { SECRET, closeAll, connect, startAll, waitFor } from './helpers/net.js';
import { signedHeaders } from './helpers/requests.js';
import { CONTINUE_WAIT_MS } from '../src/client/request.js';

let cleanup: HttpTransport[] = [];
afterEach(async () => {
  await closeAll(cleanup);
  cleanup = [];
});

const heartbeat = (n: number): HeartbeatRequest => ({ ...samplesOfType('heartbeat', 'n1', 'n2')[0], context: n });


/** A chunk of `bytes` whose data is not a repeating pattern a mix-up could preserve. */
function bigChunk(bytes: number): SnapshotChunkRequest {
  const data = new Uint8Array(bytes);
  const words = new Uint32Array(data.buffer);
  for (let i = 0; i < words.length; i++) words[i] = Math.imul(i, 2654435761) >>> 0;
  const meta = { index: 123_456, term: 8, voters: ['n1', 'n2'] };
  return { type: 'snapshotChunk', from: 'n1', to: 'n2', term: 9, meta, size: 2 * bytes, checksum: sha256Hex(data), offset: bytes, data, crc: crc32c(data) };
}

describe('large messages over real HTTP', () => {
  it('an 80 MiB chunk (a chunk size configured past maxBodyBytes) arrives intact with default options, alone, with the messages around it in order', async () => {
    const { transports, inboxes } = await startAll(['n1', 'n2']);
    cleanup = transports;
    const chunk = bigChunk(80 * MiB);
    // Messages on both sides of it: it goes alone, and the newest message is never pushed out.
    transports[0].send([heartbeat(1), chunk, heartbeat(2)]);
    await waitFor(() => inboxes[1].messages.length === 3, 'the chunk and both heartbeats', 20_000);
    const [first, got, last] = inboxes[1].messages as [Message, SnapshotChunkRequest, Message];
    expect([first, last]).toEqual([heartbeat(1), heartbeat(2)]);
    expect({ ...got, data: null }).toEqual({ ...chunk, data: null });
    expect(Buffer.compare(got.data, chunk.data)).toBe(0);
    expect(transports[0].stats().peers.n2).toMatchObject({ requests: 3, failures: 0, dropped: 0, tooLarge: 0 });
    expect(transports[1].stats().inbound.rejected).toEqual({});
  }, 30_000);

  it('a message above the peer’s limit is reported as RAFT_HTTP_MESSAGE_TOO_LARGE, not retried in silence', async () => {
    const errors: HttpTransportError[] = [];
    const onError = (e: Error): void => void errors.push(e as HttpTransportError);
    cleanup = await Promise.all([
      HttpTransport.listen({ id: 'n1', secret: SECRET, onError, backoff: { initialMs: 1, maxMs: 1 } }),
      HttpTransport.listen({ id: 'n2', secret: SECRET, maxSnapshotBytes: 2 * MiB, maxBodyBytes: 1 * MiB }),
    ]);
    const [sender, receiver] = cleanup;
    sender.setPeer('n2', receiver.url!);
    receiver.setPeer('n1', sender.url!);
    await sender.start({ onMessage: () => {} });
    const delivered: Message[] = [];
    await receiver.start({ onMessage: (m) => void delivered.push(m) });

    // Under the snapshot limit but over maxBodyBytes: it goes, snapshot chunks have their own limit.
    sender.send([largeChunk('n1', 'n2', 1.5 * MiB)]);
    await waitFor(() => delivered.length === 1, 'a 1.5 MiB chunk past a 1 MiB body limit');
    expect(delivered[0].type).toBe('snapshotChunk');

    sender.send([largeChunk('n1', 'n2', 3 * MiB)]);
    await waitFor(() => errors.length === 1, 'the too-large report');
    expect(errors[0]).toBeInstanceOf(HttpTransportError);
    expect(errors[0]).toMatchObject({ code: HttpErrorCode.MessageTooLarge, status: 413, peer: 'n2', peerCode: HttpErrorCode.BodyTooLarge });
    expect(errors[0].message).toMatch(/peer n2 refused 1 messages as too large.*maxSnapshotBytes/);
    expect(sender.stats().peers.n2.tooLarge).toBe(1);

    // An append over maxBodyBytes is refused and reported the same way (sends during the 1 ms
    // backoff are dropped, so send until one goes).
    await waitFor(() => {
      sender.send([largeAppend('n1', 'n2', 2 * MiB)]);
      return errors.length === 2;
    }, 'the second too-large report');
    expect(errors[1]).toMatchObject({ code: HttpErrorCode.MessageTooLarge, peerCode: HttpErrorCode.BodyTooLarge });
    expect(receiver.stats().inbound.rejected[HttpErrorCode.BodyTooLarge]).toBe(2);
    expect(delivered).toHaveLength(1);
  });

  it('over maxConcurrentBodies a large body gets 503 RAFT_HTTP_BUSY: the sender backs off without an error report, small ones still pass', async () => {
    const errors: Error[] = [];
    const unreachable: string[] = [];
    const options = { secret: SECRET, onError: (e: Error) => void errors.push(e), backoff: { initialMs: 1, maxMs: 1 } };
    cleanup = await Promise.all([HttpTransport.listen({ id: 'n1', ...options }), HttpTransport.listen({ id: 'n2', ...options, maxConcurrentBodies: 1 })]);
    const [n1, n2] = cleanup;
    connect(cleanup);
    const inbox = new Inbox();
    await n2.start(inbox);
    await n1.start({ onMessage: () => {}, onUnreachable: (peer) => void unreachable.push(peer) });

    // Hold the only slot: a forged 8 MiB body that never finishes arriving.
    const holder = http.request(`${n2.url}${MESSAGES_PATH}`, { method: 'POST', headers: { ...signedHeaders(new Uint8Array(1)), 'content-length': String(8 * MiB) } });
    holder.on('error', () => {});
    holder.write(new Uint8Array(64 * 1024));
    await waitFor(() => n2.stats().inbound.requests === 1, 'the holder to be admitted');

    n1.send([largeAppend('n1', 'n2', 2 * MiB)]);
    await waitFor(() => n1.stats().peers.n2.busy === 1, 'a busy answer');
    expect(n2.stats().inbound.rejected[HttpErrorCode.Busy]).toBe(1);
    expect(errors).toEqual([]);
    await waitFor(() => unreachable.length === 1, 'the peer reported unreachable (backpressure)');

    // A heartbeat needs no slot.
    await waitFor(() => {
      n1.send([heartbeat(7)]);
      return inbox.messages.length > 0;
    }, 'a heartbeat while the slot is taken');

    holder.destroy();
    await waitFor(() => {
      if (n1.stats().peers.n2.queued === 0) n1.send([largeAppend('n1', 'n2', 2 * MiB)]);
      return inbox.messages.some((m) => m.type === 'append');
    }, 'the append once the slot is free');
    expect(errors).toEqual([]);
  });

  it('the too-large report also arrives from a router in an app whose server sends 100 Continue itself', async () => {
    const errors: HttpTransportError[] = [];
    const n1 = await HttpTransport.listen({ id: 'n1', secret: SECRET, onError: (e) => void errors.push(e as HttpTransportError) });
    const n2 = new HttpTransport({ id: 'n2', secret: SECRET, maxSnapshotBytes: 1 * MiB });
    cleanup = [n1, n2];
    const app = express();
    app.use('/cluster', n2.router());
    const server = http.createServer(app); // no checkContinue listener: Node answers 100 Continue
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      n1.setPeer('n2', `http://127.0.0.1:${(server.address() as AddressInfo).port}/cluster`);
      n2.setPeer('n1', n1.url!);
      await n1.start({ onMessage: () => {} });
      await n2.start({ onMessage: () => {} });
      for (let i = 1; i <= 3; i++) {
        await waitFor(() => {
          if (n1.stats().peers.n2.queued === 0 && n1.stats().peers.n2.requests < i) n1.send([largeChunk('n1', 'n2', 32 * MiB)]);
          return n1.stats().peers.n2.failures === i;
        }, `refusal ${i}`);
      }
      expect(errors.map((e) => e.code)).toEqual([HttpErrorCode.MessageTooLarge, HttpErrorCode.MessageTooLarge, HttpErrorCode.MessageTooLarge]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a peer that ignores Expect: 100-continue still gets a large body, after CONTINUE_WAIT_MS', async () => {
    const n2 = new HttpTransport({ id: 'n2', secret: SECRET });
    const inbox = new Inbox();
    const app = express();
    app.use(n2.router());
    const server = http.createServer(app);
    // Like a proxy that drops Expect: the request reaches the router with the header removed,
    // and nobody ever sends 100 Continue.
    server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      delete req.headers.expect;
      app(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const n1 = await HttpTransport.listen({ id: 'n1', secret: SECRET });
    cleanup = [n1, n2];
    try {
      n1.setPeer('n2', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      n2.setPeer('n1', n1.url!);
      await n2.start(inbox);
      await n1.start({ onMessage: () => {} });
      const started = performance.now();
      n1.send([largeAppend('n1', 'n2', 2 * MiB)]);
      await waitFor(() => inbox.messages.length === 1, 'the append');
      expect(performance.now() - started).toBeGreaterThanOrEqual(CONTINUE_WAIT_MS - 50);
      expect(n1.stats().peers.n2.failures).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a body that stops arriving is refused with 408 after timeoutMs, freeing its slot', async () => {
    cleanup = await Promise.all([
      HttpTransport.listen({ id: 'n1', secret: SECRET }),
      HttpTransport.listen({ id: 'n2', secret: SECRET, maxConcurrentBodies: 1, timeoutMs: 200 }),
    ]);
    const [n1, n2] = cleanup;
    connect(cleanup);
    const inbox = new Inbox();
    await n2.start(inbox);
    await n1.start({ onMessage: () => {} });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const holder = http.request(`${n2.url}${MESSAGES_PATH}`, { method: 'POST', headers: { ...signedHeaders(new Uint8Array(1)), 'content-length': String(8 * MiB) } });
      holder.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      holder.on('error', reject);
      holder.write(new Uint8Array(64 * 1024));
    });
    const refused = await answer;
    expect(refused.status).toBe(408);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: HttpErrorCode.BodyTimeout } });
    n1.send([largeAppend('n1', 'n2', 2 * MiB)]);
    await waitFor(() => inbox.messages.length === 1, 'a large append through the freed slot');
  });
});
