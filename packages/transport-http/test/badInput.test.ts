import net from 'node:net';
import type { HeartbeatRequest } from '@raftkit/core';
import { ErrorCode } from '@raftkit/core';
import { Inbox, samplesOfType } from '@raftkit/transport-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_CONTENT_TYPE, HttpErrorCode, HttpTransport, encodeMessages } from '../src/index.js';
import { SECRET, closeAll, connect, waitFor } from './helpers/net.js';
import { type Answer, announceOnly, call, signedHeaders } from './helpers/requests.js';

const LIMIT = 64 * 1024;
let n1: HttpTransport;
let n2: HttpTransport;
const inbox = new Inbox();
let url: string;

beforeAll(async () => {
  n1 = await HttpTransport.listen({ id: 'n1', secret: SECRET });
  n2 = await HttpTransport.listen({ id: 'n2', secret: SECRET, maxBodyBytes: LIMIT });
  connect([n1, n2]);
  await n1.start(new Inbox());
  await n2.start(inbox);
  url = n2.url!;
});
afterAll(() => closeAll([n1, n2]));

const heartbeat = (from = 'n1', to = 'n2'): HeartbeatRequest => samplesOfType('heartbeat', from, to)[0];
const valid = encodeMessages([heartbeat()]);

/** A refusal: the status, and the coded JSON error body every refusal carries. */
function expectRefusal(answer: Answer, status: number, code: string, message?: RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const error = (answer.body as { error: { code: string; message: string } }).error;
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(0);
  if (message) expect(error.message).toMatch(message);
}

describe('requests that never reach the core', () => {
  it('wrong method → 405 with Allow: POST', async () => {
    const answer = await call(url, { method: 'GET' });
    expectRefusal(answer, 405, HttpErrorCode.MethodNotAllowed);
    expect(answer.headers.get('allow')).toBe('POST');
  });

  it('wrong content-type → 415', async () => {
    const body = JSON.stringify([heartbeat()]);
    const answer = await call(url, { body, headers: { ...signedHeaders(Buffer.from(body)), 'content-type': 'application/json' } });
    expectRefusal(answer, 415, HttpErrorCode.UnsupportedMediaType, /content-type must be application\/vnd.raftkit.batch/);
  });

  it('a content-encoding → 415', async () => {
    const answer = await call(url, { body: valid, headers: { ...signedHeaders(valid), 'content-encoding': 'gzip' } });
    expectRefusal(answer, 415, HttpErrorCode.UnsupportedMediaType, /content-encoding gzip/);
  });

  it('no auth headers → 401', async () => {
    const answer = await call(url, { body: valid, headers: { 'content-type': BATCH_CONTENT_TYPE } });
    expectRefusal(answer, 401, HttpErrorCode.Unauthorized, /missing x-raftkit-from/);
  });

  it('a signature made with another secret → 401', async () => {
    const answer = await call(url, { body: valid, headers: signedHeaders(valid, { secret: 'not-the-cluster-secret-at-all' }) });
    expectRefusal(answer, 401, HttpErrorCode.Unauthorized, /signature does not match/);
  });

  it('a valid signature over a different body → 401', async () => {
    const other = encodeMessages([{ ...heartbeat(), commit: 999 }]);
    const answer = await call(url, { body: other, headers: signedHeaders(valid) });
    expectRefusal(answer, 401, HttpErrorCode.Unauthorized, /signature does not match/);
  });

  it('a malformed signature → 401', async () => {
    const answer = await call(url, { body: valid, headers: { ...signedHeaders(valid), 'x-raftkit-signature': 'abc' } });
    expectRefusal(answer, 401, HttpErrorCode.Unauthorized, /64 lowercase hex digits/);
  });

  it('an expired timestamp (2 minutes old), correctly signed → 401', async () => {
    const answer = await call(url, { body: valid, headers: signedHeaders(valid, { now: Date.now() - 120_000 }) });
    expectRefusal(answer, 401, HttpErrorCode.Unauthorized, /outside ±60 s/);
  });

  it('a timestamp from the future (2 minutes ahead) → 401', async () => {
    const answer = await call(url, { body: valid, headers: signedHeaders(valid, { now: Date.now() + 120_000 }) });
    expectRefusal(answer, 401, HttpErrorCode.Unauthorized, /outside ±60 s/);
  });

  it('garbage bytes, correctly signed → 400 RAFT_BAD_MESSAGE', async () => {
    const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 7919) & 0xff);
    const answer = await call(url, { body: garbage, headers: signedHeaders(garbage) });
    expectRefusal(answer, 400, ErrorCode.BadMessage, /not a raftkit batch/);
  });

  it('a truncated batch, correctly signed → 400 RAFT_BAD_MESSAGE', async () => {
    const cut = valid.subarray(0, valid.length - 3);
    const answer = await call(url, { body: cut, headers: signedHeaders(cut) });
    expectRefusal(answer, 400, ErrorCode.BadMessage, /truncated/);
  });

  it('an empty body → 400 RAFT_BAD_MESSAGE', async () => {
    const empty = new Uint8Array(0);
    const answer = await call(url, { body: empty, headers: signedHeaders(empty) });
    expectRefusal(answer, 400, ErrorCode.BadMessage);
  });

  it('an oversized body → 413', async () => {
    const big = new Uint8Array(LIMIT + 1);
    const answer = await call(url, { body: big, headers: signedHeaders(big) });
    expectRefusal(answer, 413, HttpErrorCode.BodyTooLarge, new RegExp(`limit of ${LIMIT} bytes`));
  });

  it('a chunked body (no content-length) → 411, its size must be known before it is read', async () => {
    const chunk = new Uint8Array(16 * 1024);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const answer = await call(url, { body: stream, headers: signedHeaders(chunk), duplex: 'half' } as RequestInit);
    expectRefusal(answer, 411, HttpErrorCode.LengthRequired, /Content-Length header is required/);
  });

  it('the default 64 MiB limit refuses a larger announced body before it is sent', async () => {
    const status = await announceOnly(n1.url!, 64 * 1024 * 1024 + 1, signedHeaders(valid, { from: 'n2', to: 'n1' }));
    expect(status).toBe(413);
  });

  // Issue 9 item 8: everything the headers say is judged before a byte of the body is read.
  it('a wrong addressee, an unknown sender or a stale timestamp is refused before the body is sent', async () => {
    const big = 32 * 1024 * 1024;
    expect(await announceOnly(url, big, signedHeaders(valid, { to: 'n3' }))).toBe(421);
    expect(await announceOnly(url, big, signedHeaders(valid, { from: 'mallory' }))).toBe(403);
    expect(await announceOnly(url, big, signedHeaders(valid, { now: Date.now() - 120_000 }))).toBe(401);
  });

  it('a snapshot-marked request over the default 1 GiB snapshot limit → 413 before it is sent', async () => {
    const headers = { ...signedHeaders(valid, { from: 'n2', to: 'n1' }), 'x-raftkit-snapshot': '1' };
    expect(await announceOnly(n1.url!, 1024 * 1024 * 1024 + 1, headers)).toBe(413);
  });

  it('a snapshot-marked request carrying anything but one snapshot chunk → 400', async () => {
    const [chunk] = samplesOfType('snapshotChunk', 'n1', 'n2');
    const bodies = [valid, encodeMessages(samplesOfType('snapshot', 'n1', 'n2').slice(0, 1)), encodeMessages([chunk, chunk])];
    for (const body of bodies) {
      const answer = await call(url, { body, headers: { ...signedHeaders(body), 'x-raftkit-snapshot': '1' } });
      expectRefusal(answer, 400, ErrorCode.BadMessage, /exactly one snapshotChunk message/);
    }
  });

  it('a snapshot marker other than 1 → 400', async () => {
    const answer = await call(url, { body: valid, headers: { ...signedHeaders(valid), 'x-raftkit-snapshot': 'yes' } });
    expectRefusal(answer, 400, ErrorCode.BadMessage, /must be 1/);
  });

  it('a request addressed to another node → 421', async () => {
    const answer = await call(url, { body: valid, headers: signedHeaders(valid, { to: 'n3' }) });
    expectRefusal(answer, 421, HttpErrorCode.WrongNode, /this is node n2, not n3/);
  });

  it('a sender that is not a peer → 403', async () => {
    const body = encodeMessages([heartbeat('mallory')]);
    const answer = await call(url, { body, headers: signedHeaders(body, { from: 'mallory' }) });
    expectRefusal(answer, 403, HttpErrorCode.UnknownPeer, /mallory is not a peer of n2/);
  });

  it('a message inside the batch for another node → 421', async () => {
    const body = encodeMessages([heartbeat(), heartbeat('n1', 'n3')]);
    const answer = await call(url, { body, headers: signedHeaders(body) });
    expectRefusal(answer, 421, HttpErrorCode.WrongNode, /message #1 is for n3/);
  });

  it('a message claiming another sender than the signed one → 403', async () => {
    const body = encodeMessages([heartbeat('n3')]);
    const answer = await call(url, { body, headers: signedHeaders(body) });
    expectRefusal(answer, 403, HttpErrorCode.UnknownPeer, /claims sender n3/);
  });

  it('an unknown route on the standalone server → 404', async () => {
    expectRefusal(await call(url, { method: 'GET', path: '/metrics' }), 404, HttpErrorCode.NotFound);
  });

  it('a client that hangs up halfway through its body is counted as a bad message', async () => {
    const badBefore = n2.stats().inbound.rejected[ErrorCode.BadMessage] ?? 0;
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const head = Object.entries(signedHeaders(valid)).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    socket.write(`POST /raft/v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: ${valid.length}\r\n${head}\r\n\r\n`);
    socket.write(valid.subarray(0, 10));
    await new Promise<void>((resolve) => socket.end(() => resolve()));
    socket.destroy();
    await waitFor(() => n2.stats().inbound.rejected[ErrorCode.BadMessage] === badBefore + 1, 'the cut-short body to be refused');
  });

  it('none of them delivered anything, every refusal was counted, and valid traffic still flows', async () => {
    expect(inbox.messages).toEqual([]);
    const rejected = n2.stats().inbound.rejected;
    expect(rejected[HttpErrorCode.Unauthorized]).toBe(7);
    expect(rejected[ErrorCode.BadMessage]).toBe(8);
    const sent = samplesOfType('append', 'n1', 'n2');
    n1.send(sent);
    await waitFor(() => inbox.messages.length === sent.length, 'valid appends after the bad requests');
    expect(n2.stats().peers.n1.received).toBe(sent.length);
  });
});
