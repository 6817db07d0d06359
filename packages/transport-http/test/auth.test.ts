import { ErrorCode } from '@raftkit/core';
import { sequencedMessage } from '@raftkit/transport-suite';
import { describe, expect, it } from 'vitest';
import { authHeaders, readClaim, secretBytes, verifyClaim } from '../src/auth.js';
import { HttpErrorCode, HttpTransport, type HttpTransportError, RaftHeaders, encodeMessages } from '../src/index.js';
import { SECRET, closeAll, connect, startAll, waitFor } from './helpers/net.js';
import { call, signedHeaders } from './helpers/requests.js';

const secret = secretBytes(SECRET);
const body = Uint8Array.from([1, 2, 3]);
const NOW = 1_700_000_000_000;

function claimOf(headers: Record<string, string>, now = NOW) {
  const result = readClaim(headers, now, 60_000);
  if (!result.ok) throw new Error(result.reason);
  return result.claim;
}

describe('HMAC peer authentication', () => {
  it('accepts its own signature and binds it to sender, receiver, time and body', () => {
    const headers = authHeaders(secret, 'n1', 'n2', body, NOW);
    expect(verifyClaim(secret, claimOf(headers), body)).toBe(true);
    expect(verifyClaim(secret, claimOf(headers), Uint8Array.from([1, 2, 4]))).toBe(false);
    expect(verifyClaim(secretBytes('another-secret-of-16+'), claimOf(headers), body)).toBe(false);
    for (const [name, value] of [[RaftHeaders.from, 'n3'], [RaftHeaders.to, 'n3'], [RaftHeaders.timestamp, String(NOW + 1)]]) {
      expect(verifyClaim(secret, claimOf({ ...headers, [name]: value }), body), `tampered ${name}`).toBe(false);
    }
  });

  it('accepts timestamps within ±60 s and refuses those beyond', () => {
    const headers = authHeaders(secret, 'n1', 'n2', body, NOW);
    expect(readClaim(headers, NOW + 60_000, 60_000).ok).toBe(true);
    expect(readClaim(headers, NOW - 60_000, 60_000).ok).toBe(true);
    expect(readClaim(headers, NOW + 60_001, 60_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/outside ±60 s/) });
    expect(readClaim(headers, NOW - 60_001, 60_000).ok).toBe(false);
  });

  it('percent-encodes ids so any unicode id fits in a header', () => {
    const headers = authHeaders(secret, 'n-äöü', '节点\n2', body, NOW);
    expect(headers[RaftHeaders.from]).toBe('n-%C3%A4%C3%B6%C3%BC');
    expect(claimOf(headers)).toMatchObject({ from: 'n-äöü', to: '节点\n2' });
    expect(readClaim({ ...headers, [RaftHeaders.from]: '%E0%A4%A' }, NOW, 60_000).ok).toBe(false);
  });

  it('refuses secrets shorter than 16 bytes', () => {
    expect(() => secretBytes('fifteen-bytes!!')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
    expect(secretBytes(new Uint8Array(16)).length).toBe(16);
  });

  it('refuses a missing secret with a coded error that says what is needed (not ERR_INVALID_ARG_TYPE)', () => {
    for (const secret of [undefined, null, 42]) {
      expect(() => secretBytes(secret as unknown as string)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig, message: expect.stringMatching(/secret is required/) }));
    }
  });

  it('nodes with unicode ids talk over HTTP', async () => {
    const { transports, inboxes } = await startAll(['n-äöü', '节点']);
    try {
      transports[0].send([sequencedMessage('n-äöü', '节点', 0)]);
      await waitFor(() => inboxes[1].messages.length === 1, 'delivery between unicode ids');
      expect(inboxes[1].messages[0]).toMatchObject({ from: 'n-äöü', to: '节点' });
    } finally {
      await closeAll(transports);
    }
  });
});

// Issue 9 item 12 (transport side): a node whose clock was 1 h off was cut off silently.
describe('a peer whose clock is outside the window', () => {
  it('is refused with 401 naming the skew, and the receiver reports RAFT_HTTP_CLOCK_SKEW once per interval', async () => {
    const reports: HttpTransportError[] = [];
    const transports = await Promise.all([
      HttpTransport.listen({ id: 'n1', secret: SECRET }),
      HttpTransport.listen({ id: 'n2', secret: SECRET, onError: (e) => void reports.push(e as HttpTransportError) }),
    ]);
    try {
      connect(transports);
      await Promise.all(transports.map((t) => t.start({ onMessage: () => {} })));
      const body = encodeMessages([sequencedMessage('n1', 'n2', 0)]);
      const hourBehind = Date.now() - 3_600_000;
      for (let i = 0; i < 5; i++) {
        const answer = await call(transports[1].url!, { body, headers: signedHeaders(body, { now: hourBehind }) });
        expect(answer.status).toBe(401);
        expect(answer.body).toMatchObject({ error: { code: HttpErrorCode.Unauthorized, message: expect.stringMatching(/timestamp is -3600 s from this node's clock, outside ±60 s/) } });
      }
      // A stranger's claims are refused just the same, but not reported (no log flooding by forgery).
      const stranger = signedHeaders(body, { from: 'mallory', now: hourBehind });
      expect((await call(transports[1].url!, { body, headers: stranger })).status).toBe(401);
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ code: HttpErrorCode.ClockSkew, status: 401, peer: 'n1' });
      expect(reports[0].message).toMatch(/peer n1: its clock is -3600 s off .*cut off/);

      // A wrong secret from a known peer is reported too.
      const wrong = await call(transports[1].url!, { body, headers: signedHeaders(body, { secret: 'not-the-cluster-secret-at-all' }) });
      expect(wrong.status).toBe(401);
      expect(reports[1]).toMatchObject({ code: HttpErrorCode.Unauthorized, peer: 'n1', message: expect.stringMatching(/cluster secret/) });
      expect(transports[1].stats().inbound.rejected[HttpErrorCode.Unauthorized]).toBe(7);
    } finally {
      await closeAll(transports);
    }
  });
});
