import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inbox, sequencedMessage } from '@raftkit/transport-suite';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpErrorCode, HttpTransport, HttpTransportError } from '../src/index.js';
import { PeerFailureLog } from '../src/peerFailureLog.js';
import { SECRET, waitFor } from './helpers/net.js';

// A peer URL that lacks the router's mount path gets some other app's HTML 404: that must be
// a coded error naming the peer, the URL and the fix, and be reported even if nobody asked.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Peer b mounted at /raft-mount in express; returns its base URL WITHOUT the mount path. */
async function mountedPeer(): Promise<string> {
  const b = new HttpTransport({ id: 'b', secret: SECRET, onError: () => {} });
  await b.start(new Inbox());
  const app = express();
  app.use('/raft-mount', b.router());
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await b.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function sender(peerBase: string, onError?: (error: Error) => void): Promise<HttpTransport> {
  const a = new HttpTransport({ id: 'a', secret: SECRET, peers: { b: peerBase }, backoff: { initialMs: 1, maxMs: 2 }, ...(onError ? { onError } : {}) });
  cleanups.push(() => a.close());
  await a.start(new Inbox());
  return a;
}

describe('a peer URL missing the mount path', () => {
  it('is reported by default as one trimmed console.warn line naming the peer, the URL and the fix', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const base = await mountedPeer();
    const a = await sender(base);
    // Many failures: the default reporter writes the first at once and holds the rest back.
    for (let i = 0; i < 20; i++) {
      a.send([sequencedMessage('a', 'b', i)]);
      await waitFor(() => a.stats().peers.b.failures > i || a.stats().peers.b.dropped > i, `failure ${i}`);
    }
    await waitFor(() => warn.mock.calls.length >= 1, 'the default report');
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0][0]);
    expect(line).not.toContain('\n');
    expect(line).not.toMatch(/<[a-z!]/i);
    expect(line).toContain(HttpErrorCode.PeerEndpointNotFound);
    expect(line).toContain('peer b');
    expect(line).toContain(`${base}/raft/v1/messages`);
    expect(line).toContain('HTTP 404');
    expect(line).toContain('missing the path the peer\'s router is mounted at');
    expect(line.length).toBeLessThan(600);
  });

  it('goes to a configured onError instead, as a coded HttpTransportError', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const errors: Error[] = [];
    const base = await mountedPeer();
    const a = await sender(base, (err) => errors.push(err));
    a.send([sequencedMessage('a', 'b', 0)]);
    await waitFor(() => errors.length === 1, 'the reported error');
    const err = errors[0] as HttpTransportError;
    expect(err).toBeInstanceOf(HttpTransportError);
    expect(err).toMatchObject({ code: HttpErrorCode.PeerEndpointNotFound, status: 404, peer: 'b', peerCode: undefined });
    expect(err.message).toContain(`no raftkit peer endpoint at ${base}/raft/v1/messages`);
    expect(err.message).not.toContain('\n');
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('PeerFailureLog (the default reporter)', () => {
  const failure = (peer: string, code: string = HttpErrorCode.PeerRejected): HttpTransportError => new HttpTransportError(code as HttpErrorCode, `peer ${peer} refused 1 messages:\n<html>x</html>`, { peer });

  it('writes the first failure per peer and code at once, then one line per peer per interval with the count left out', () => {
    const lines: string[] = [];
    let now = 0;
    const log = new PeerFailureLog((line) => lines.push(line), () => now, 30_000);
    for (let i = 0; i < 100; i++) log.report(failure('b'));
    expect(lines).toHaveLength(1);
    log.report(failure('c'));
    log.report(failure('b', HttpErrorCode.PeerEndpointNotFound));
    expect(lines).toHaveLength(3);
    now = 29_999;
    log.report(failure('b'));
    expect(lines).toHaveLength(3);
    now = 30_001;
    log.report(failure('b'));
    expect(lines).toHaveLength(4);
    // A new code is written at once and carries the count held back so far.
    expect(lines[2]).toContain('(99 more since the last line not shown)');
    expect(lines[3]).toContain('(1 more since the last line not shown)');
    for (const line of lines) expect(line).not.toMatch(/\n|<html>/);
  });

  it('says once when a reported peer answers again, and nothing for a peer never reported', () => {
    const lines: string[] = [];
    const log = new PeerFailureLog((line) => lines.push(line), () => 0);
    log.recovered('b');
    expect(lines).toHaveLength(0);
    log.report(failure('b'));
    log.report(failure('b'));
    log.recovered('b');
    log.recovered('b');
    expect(lines).toEqual([expect.stringContaining('PEER_REJECTED'), 'raftkit transport-http: peer b answers again (1 failures since the last line not shown)']);
  });
});
