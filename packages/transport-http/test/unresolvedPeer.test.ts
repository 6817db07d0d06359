import type { LookupFunction } from 'node:net';
import { Inbox, sequencedMessage } from '@raftkit/transport-suite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpErrorCode, HttpTransport, HttpTransportError } from '../src/index.js';
import { SECRET, waitFor } from './helpers/net.js';

// A peer given by a DNS name that resolves only later (a StatefulSet pod's record appears once
// the pod runs): the link keeps retrying with backoff, says so, and delivers once it resolves.
// The names are resolved by an injected lookup: no DNS query leaves this machine.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A resolver that knows `name` only once `resolvable` is set; counts the lookups of it. */
function lateResolver(name: string) {
  const state = { resolvable: false, lookups: 0 };
  const lookup = ((host: string, options: unknown, callback: (...args: unknown[]) => void) => {
    const cb = typeof options === 'function' ? (options as typeof callback) : callback;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    if (host === name) state.lookups += 1;
    if (host !== name || !state.resolvable) {
      const err = Object.assign(new Error(`test resolver: ${host} is unknown`), { code: 'ENOTFOUND', hostname: host });
      return process.nextTick(cb, err);
    }
    if (all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(cb, null, '127.0.0.1', 4);
  }) as unknown as LookupFunction;
  return { state, lookup };
}

async function pair(onError?: (err: Error) => void) {
  // b knows a (it refuses unknown senders); a's address does not matter here.
  const b = await HttpTransport.listen({ id: 'b', secret: SECRET, peers: { a: 'http://127.0.0.1:1' }, onError: () => {} });
  const inboxB = new Inbox();
  await b.start(inboxB);
  const port = new URL(b.url!).port;
  const resolver = lateResolver('raftkit-1.peers.raftkit-test');
  const a = new HttpTransport({
    id: 'a',
    secret: SECRET,
    peers: { b: `http://raftkit-1.peers.raftkit-test:${port}` },
    backoff: { initialMs: 5, maxMs: 20 },
    lookup: resolver.lookup,
    ...(onError ? { onError } : {}),
  });
  await a.start(new Inbox());
  cleanups.push(() => b.close(), () => a.close());
  return { a, inboxB, resolver };
}

/** Sends heartbeats-like messages (as Raft does every tick) until `done` holds. */
async function keepSending(a: HttpTransport, done: () => boolean, what: string): Promise<void> {
  let seq = 0;
  const timer = setInterval(() => a.send([sequencedMessage('a', 'b', seq++)]), 5);
  try {
    await waitFor(done, what, 10_000);
  } finally {
    clearInterval(timer);
  }
}

describe('a peer whose host name does not resolve yet', () => {
  it('is retried with backoff, reported as RAFT_HTTP_PEER_UNRESOLVED, and reached once the name resolves', async () => {
    const errors: Error[] = [];
    const { a, inboxB, resolver } = await pair((err) => errors.push(err));
    await keepSending(a, () => resolver.state.lookups >= 5, 'five lookups of the unresolved name');
    expect(inboxB.messages).toHaveLength(0);
    const unresolved = errors.filter((e) => (e as HttpTransportError).code === HttpErrorCode.PeerUnresolved);
    expect(unresolved.length).toBeGreaterThanOrEqual(5);
    expect(unresolved[0]).toBeInstanceOf(HttpTransportError);
    expect(unresolved[0]).toMatchObject({ peer: 'b', status: undefined });
    expect(unresolved[0]!.message).toBe('peer b: host name raftkit-1.peers.raftkit-test does not resolve (ENOTFOUND); retrying with backoff until it does');
    expect(a.stats().peers.b!.failures).toBeGreaterThanOrEqual(5);

    resolver.state.resolvable = true;
    // b holds the message before a has read b's answer: wait for both.
    await keepSending(a, () => inboxB.messages.length > 0 && a.stats().peers.b!.consecutiveFailures === 0, 'delivery once the name resolves, and its answer');
    expect(inboxB.messages[0]!.from).toBe('a');
    expect(a.stats().peers.b!.sent).toBeGreaterThan(0);
  });

  it('is written by the default reporter once per peer, then once more when the peer answers', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { a, inboxB, resolver } = await pair();
    await keepSending(a, () => resolver.state.lookups >= 10, 'ten lookups of the unresolved name');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toBe(
      'raftkit transport-http: RAFT_HTTP_PEER_UNRESOLVED: peer b: host name raftkit-1.peers.raftkit-test does not resolve (ENOTFOUND); retrying with backoff until it does',
    );
    resolver.state.resolvable = true;
    await keepSending(a, () => inboxB.messages.length > 0 && warn.mock.calls.length === 2, 'delivery and the recovery line');
    expect(String(warn.mock.calls[1]![0])).toMatch(/^raftkit transport-http: peer b answers again \(\d+ failures since the last line not shown\)$/);
  });

  it('a refused connection is still not reported (only unresolved names are)', async () => {
    const errors: Error[] = [];
    const a = new HttpTransport({ id: 'a', secret: SECRET, peers: { b: 'http://127.0.0.1:1' }, backoff: { initialMs: 5, maxMs: 20 }, onError: (e) => errors.push(e) });
    await a.start(new Inbox());
    cleanups.push(() => a.close());
    await keepSending(a, () => a.stats().peers.b!.failures >= 3, 'three failed requests');
    expect(errors).toEqual([]);
  });
});
