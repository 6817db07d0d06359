import { Inbox, sequencedMessage } from '@raftkit/transport-suite';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpErrorCode, type HttpTransport } from '../src/index.js';
import { FrameKind, encodeFrame } from '../src/stream/frames.js';
import { encodeMessages } from '../src/index.js';
import { closeAll, startAll, waitFor } from './helpers/net.js';
import { call, signedHeaders } from './helpers/requests.js';
import { rawStream } from './helpers/streamClient.js';

// The stream's integrity: the open is signed and its nonce used once; every frame is MAC'd over
// a per-stream key and its position, so a frame tampered with, replayed, reordered or injected
// is refused with a coded error and the stream closed; nothing after it is delivered.

let transports: HttpTransport[] = [];
let inbox: Inbox;
afterEach(async () => {
  await closeAll(transports);
  transports = [];
});

async function receiver(): Promise<string> {
  const started = await startAll(['a', 'b'], { onError: () => {} });
  transports = started.transports;
  inbox = started.inboxes[1];
  return transports[1].url!;
}

const codeOf = (answer: string): string => (JSON.parse(answer) as { error: { code: string } }).error.code;

describe('stream frames are authenticated (option stream)', () => {
  it('delivers correctly MAC-ed frames in order and ends cleanly', async () => {
    const s = rawStream(await receiver());
    expect(await s.status).toBe(200);
    s.frame(0, [sequencedMessage('a', 'b', 0)]);
    s.frame(1, [sequencedMessage('a', 'b', 1), sequencedMessage('a', 'b', 2)]);
    await waitFor(() => inbox.messages.length === 3, 'three messages');
    expect(transports[1].stats().inbound.streams).toBe(1);
    s.end();
    expect(await s.answer).toBe('');
    expect(transports[1].stats().peers.a).toMatchObject({ received: 3 });
  });

  const attacks: [string, (s: ReturnType<typeof rawStream>) => void][] = [
    ['a tampered frame', (s) => {
      const bytes = encodeFrame(s.key, 1, FrameKind.batch, encodeMessages([sequencedMessage('a', 'b', 1)]));
      bytes[bytes.length - 40] ^= 1; // a payload byte
      s.write(bytes);
    }],
    ['a replayed frame', (s) => void s.write(encodeFrame(s.key, 0, FrameKind.batch, encodeMessages([sequencedMessage('a', 'b', 0)])))],
    ['a reordered frame (#2 before #1)', (s) => void s.write(encodeFrame(s.key, 2, FrameKind.batch, encodeMessages([sequencedMessage('a', 'b', 2)])))],
    ['an injected frame under another key', (s) => void s.write(encodeFrame(Buffer.alloc(32, 7), 1, FrameKind.batch, encodeMessages([sequencedMessage('a', 'b', 1)])))],
  ];
  for (const [name, attack] of attacks) {
    it(`refuses ${name} with RAFT_HTTP_UNAUTHORIZED and closes the stream`, async () => {
      const s = rawStream(await receiver());
      expect(await s.status).toBe(200);
      s.frame(0, [sequencedMessage('a', 'b', 0)]);
      await waitFor(() => inbox.messages.length === 1, 'the first frame');
      attack(s);
      const answer = await s.answer;
      expect(codeOf(answer)).toBe(HttpErrorCode.Unauthorized);
      expect(answer).toMatch(/frame #1: MAC does not match/);
      // Closed: a correct frame #1 afterwards is not delivered either.
      s.frame(1, [sequencedMessage('a', 'b', 1)]);
      await waitFor(() => transports[1].stats().inbound.streams === 0, 'the stream to be closed');
      expect(inbox.messages.length).toBe(1);
      expect(transports[1].stats().inbound.rejected[HttpErrorCode.Unauthorized]).toBe(1);
      s.destroy();
    });
  }

  it('refuses a frame over maxBodyBytes from its header, before its payload arrives', async () => {
    const s = rawStream(await receiver());
    expect(await s.status).toBe(200);
    const header = Buffer.from([FrameKind.batch, 0x7f, 0xff, 0xff, 0xff]);
    s.write(header);
    const answer = await s.answer;
    expect(codeOf(answer)).toBe(HttpErrorCode.BodyTooLarge);
    s.destroy();
  });

  it('refuses a message the frame claims from another sender, as a request would', async () => {
    const s = rawStream(await receiver());
    expect(await s.status).toBe(200);
    s.frame(0, [sequencedMessage('c', 'b', 0)]);
    expect(codeOf(await s.answer)).toBe(HttpErrorCode.UnknownPeer);
    expect(inbox.messages.length).toBe(0);
    s.destroy();
  });

  it('refuses frames from a sender removed while its stream is open (RAFT_HTTP_UNKNOWN_PEER)', async () => {
    const s = rawStream(await receiver());
    expect(await s.status).toBe(200);
    s.frame(0, [sequencedMessage('a', 'b', 0)]);
    await waitFor(() => inbox.messages.length === 1, 'the first frame');
    transports[1].removePeer('a');
    s.frame(1, [sequencedMessage('a', 'b', 1)]);
    expect(codeOf(await s.answer)).toBe(HttpErrorCode.UnknownPeer);
    expect(inbox.messages.length).toBe(1);
    s.destroy();
  });

  it("closes a peer's stream when a request or a newer stream from it arrives: nothing older is delivered after it", async () => {
    const url = await receiver();
    const s = rawStream(url);
    expect(await s.status).toBe(200);
    s.frame(0, [sequencedMessage('a', 'b', 0)]);
    await waitFor(() => inbox.messages.length === 1, 'the first frame');
    const body = encodeMessages([sequencedMessage('a', 'b', 4)]);
    expect((await call(url, { body, headers: signedHeaders(body, { from: 'a', to: 'b' }) })).status).toBe(204);
    expect(await s.answer).toBe('');
    s.frame(1, [sequencedMessage('a', 'b', 8)]);
    const newer = rawStream(url);
    expect(await newer.status).toBe(200);
    newer.frame(0, [sequencedMessage('a', 'b', 12)]);
    await waitFor(() => inbox.messages.length === 3, 'the request and the newer stream');
    const second = rawStream(url);
    expect(await second.status).toBe(200);
    expect(await newer.answer).toBe(''); // superseded by the third
    expect(inbox.messages.map((m) => (m as { context: number }).context)).toEqual([0, 4, 12]);
    s.destroy();
    second.destroy();
  });

  it('refuses a replayed open (the same nonce) and a bad open signature with 401', async () => {
    const url = await receiver();
    const first = rawStream(url);
    expect(await first.status).toBe(200);
    const replay = rawStream(url, { headers: first.headers });
    expect(await replay.status).toBe(401);
    expect(await replay.answer).toMatch(/nonce already used/);
    const forged = rawStream(url, { headers: { 'x-raftkit-signature': '0'.repeat(64) } });
    expect(await forged.status).toBe(401);
    expect(await forged.answer).toMatch(/signature does not match/);
    first.destroy();
  });
});
