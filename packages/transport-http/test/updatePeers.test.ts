// Issue 10: the transport learns members' addresses from the configuration (RaftNode calls
// updatePeers with the latest configuration's addresses), over real sockets on 127.0.0.1.
import type { HeartbeatRequest, Message, NodeId } from '@raftkit/core';
import { Inbox, samplesOfType } from '@raftkit/transport-suite';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpErrorCode, HttpTransport, type HttpTransportError, type HttpTransportOptions } from '../src/index.js';
import { SECRET, closeAll, waitFor } from './helpers/net.js';

const opened: HttpTransport[] = [];
afterEach(async () => closeAll(opened.splice(0)));

interface Node {
  readonly transport: HttpTransport;
  readonly inbox: Inbox;
  readonly errors: HttpTransportError[];
  readonly url: string;
}

async function node(id: NodeId, options: Partial<HttpTransportOptions> = {}): Promise<Node> {
  const errors: HttpTransportError[] = [];
  const onError = (e: Error): void => void errors.push(e as HttpTransportError);
  const transport = await HttpTransport.listen({ id, secret: SECRET, onError, backoff: { initialMs: 1, maxMs: 1 }, ...options });
  opened.push(transport);
  const inbox = new Inbox();
  await transport.start(inbox);
  return { transport, inbox, errors, url: transport.url! };
}

const hello = (from: NodeId, to: NodeId, context = 1): HeartbeatRequest => ({ ...samplesOfType('heartbeat', from, to)[0], context });
const contexts = (messages: readonly Message[]): number[] => messages.map((m) => (m as HeartbeatRequest).context);

describe('HttpTransport.updatePeers', () => {
  it('a transport started with no peers reaches a member it learns from updatePeers, and hears back', async () => {
    const a = await node('a');
    const b = await node('b', { peers: { a: a.url } });
    a.transport.send([hello('a', 'b')]);
    await waitFor(() => a.inbox.unreachable.includes('b'), 'b unknown before updatePeers');

    a.transport.updatePeers({ a: a.url, b: b.url });
    a.transport.send([hello('a', 'b', 2)]);
    await b.inbox.untilMessages(1, 5000);
    expect(contexts(b.inbox.messages)).toEqual([2]);
    // Inbound follows the same table: a now accepts b's requests.
    b.transport.send([hello('b', 'a', 3)]);
    await a.inbox.untilMessages(1, 5000);
    expect(a.transport.stats().peers.b.url).toBe(`${b.url}/`);
  });

  it('a member dropped from the map is not dialled any more, and its requests are refused', async () => {
    const a = await node('a');
    const b = await node('b', { peers: { a: a.url } });
    a.transport.updatePeers({ b: b.url });
    a.transport.send([hello('a', 'b')]);
    await b.inbox.untilMessages(1, 5000);

    a.transport.updatePeers({});
    const requestsBefore = b.transport.stats().inbound.requests;
    a.transport.send([hello('a', 'b', 2)]);
    await waitFor(() => a.inbox.unreachable.includes('b'), 'b reported unreachable');
    expect(b.transport.stats().inbound.requests).toBe(requestsBefore);
    b.transport.send([hello('b', 'a')]);
    await waitFor(() => b.errors.some((e) => e.status === 403), 'b refused by a with 403');
    expect(b.errors.find((e) => e.status === 403)).toMatchObject({ code: HttpErrorCode.PeerRejected, peerCode: HttpErrorCode.UnknownPeer });
    expect(a.inbox.messages).toEqual([]);
  });

  it('a configured peer is kept when a map lacks it; a map entry moves it, and without one it returns to its configured address', async () => {
    const a = await node('a');
    const b = await node('b', { peers: { a: a.url } });
    const bMoved = await node('b', { peers: { a: a.url } }); // the same member, at another address
    a.transport.setPeer('b', b.url);

    a.transport.updatePeers({}); // a bootstrap configuration carries no addresses
    a.transport.send([hello('a', 'b', 1)]);
    await b.inbox.untilMessages(1, 5000);

    a.transport.updatePeers({ b: bMoved.url });
    a.transport.send([hello('a', 'b', 2)]);
    await bMoved.inbox.untilMessages(1, 5000);

    a.transport.updatePeers({ c: 'http://127.0.0.1:1' });
    a.transport.send([hello('a', 'b', 3)]);
    await b.inbox.untilMessages(2, 5000);
    expect(contexts(b.inbox.messages)).toEqual([1, 3]);
    expect(contexts(bMoved.inbox.messages)).toEqual([2]);
    expect(a.errors).toEqual([]);
  });

  it('a bad address is reported as RAFT_HTTP_BAD_PEER_ADDRESS, never thrown; the rest of the map applies and a reached peer keeps its address', async () => {
    const a = await node('a');
    const b = await node('b', { peers: { a: a.url } });
    const d = await node('d', { peers: { a: a.url } });
    a.transport.updatePeers({ b: b.url });

    expect(() => a.transport.updatePeers({ b: 'not a url', c: 'ftp://127.0.0.1:21', d: d.url })).not.toThrow();
    expect(a.errors.map((e) => [e.code, e.peer])).toEqual([
      [HttpErrorCode.BadPeerAddress, 'b'],
      [HttpErrorCode.BadPeerAddress, 'c'],
    ]);
    expect(a.errors[0].message).toMatch(/peer "b" has an unusable address "not a url".*still reached at http:\/\/127\.0\.0\.1:\d+\//);
    expect(a.errors[1].message).toMatch(/peer "c" has an unusable address "ftp:\/\/127\.0\.0\.1:21" .*must be http or https/);
    a.transport.send([hello('a', 'b'), hello('a', 'd'), hello('a', 'c')]);
    await b.inbox.untilMessages(1, 5000);
    await d.inbox.untilMessages(1, 5000);
    await waitFor(() => a.inbox.unreachable.includes('c'), 'c (never given a usable address) unreachable');

    for (const bad of [null, 'x', ['http://127.0.0.1:1'], { b: 7 }]) {
      expect(() => a.transport.updatePeers(bad as unknown as Record<string, string>)).not.toThrow();
    }
    expect(a.errors.slice(2).every((e) => e.code === HttpErrorCode.BadPeerAddress)).toBe(true);
    expect(a.errors).toHaveLength(6);
  });

  it('re-announcing a peer at the same address keeps its queue: a burst sent around the calls all arrives, in order', { timeout: 10_000 }, async () => {
    const a = await node('a');
    const b = await node('b', { peers: { a: a.url } });
    const map = { a: a.url, b: b.url };
    a.transport.updatePeers(map);
    for (let i = 0; i < 200; i++) {
      a.transport.send([hello('a', 'b', i + 1)]);
      a.transport.updatePeers({ ...map });
      if (i % 50 === 0) a.transport.setPeer('b', b.url); // the configured fallback, unchanged
    }
    await b.inbox.untilMessages(200, 5000);
    expect(contexts(b.inbox.messages)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('after close it does nothing and throws nothing', async () => {
    const a = await node('a');
    await a.transport.close();
    expect(() => a.transport.updatePeers({ b: 'http://127.0.0.1:1' })).not.toThrow();
    expect(a.transport.stats().peers).toEqual({});
  });
});
