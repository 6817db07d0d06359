import { Worker } from 'node:worker_threads';
import { Inbox, sequencedMessage } from '@raftkit/transport-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTransport } from '../src/index.js';
import { leftoverHandles } from './helpers/handles.js';
import { SECRET, waitFor } from './helpers/net.js';

/**
 * A peer that accepts connections and never answers, so requests stay in flight. It runs in a
 * worker thread: async hooks see only this thread, so its sockets neither count as leaks nor
 * close ours for us (which would hide a leak).
 */
const silentPeer = `
  const net = require('node:net');
  const { parentPort } = require('node:worker_threads');
  const server = net.createServer(() => parentPort.postMessage('accepted'));
  server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;
let worker: Worker;
let silentUrl: string;
let accepted = 0;
beforeAll(async () => {
  worker = new Worker(silentPeer, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  worker.on('message', () => void (accepted += 1));
  silentUrl = `http://127.0.0.1:${port}`;
});
afterAll(() => worker.terminate());

describe('close() leaves nothing running', () => {
  it('aborts a request in flight: its socket and timeout timer go away', async () => {
    const leftovers = await leftoverHandles(async () => {
      const a = await HttpTransport.listen({ id: 'a', secret: SECRET, peers: { b: silentUrl }, timeoutMs: 30_000 });
      const inbox = new Inbox();
      await a.start(inbox);
      const before = accepted;
      a.send([sequencedMessage('a', 'b', 0)]);
      await waitFor(() => accepted === before + 1, 'the request to reach the silent peer');
      await a.close();
      expect(inbox.unreachable, 'no report after close').toEqual([]);
    });
    expect(leftovers).toEqual([]);
  });

  it('while backing off from a failed peer, with messages being dropped', async () => {
    const leftovers = await leftoverHandles(async () => {
      const a = await HttpTransport.listen({ id: 'a', secret: SECRET, peers: { b: silentUrl }, timeoutMs: 20, backoff: { initialMs: 60_000, maxMs: 60_000 } });
      const inbox = new Inbox();
      await a.start(inbox);
      a.send([sequencedMessage('a', 'b', 0)]);
      await waitFor(() => a.stats().peers.b.consecutiveFailures === 1, 'a timed-out request');
      a.send([sequencedMessage('a', 'b', 1)]);
      await waitFor(() => inbox.unreachable.length === 2, 'the second send to be dropped and reported');
      expect(a.stats().peers.b).toMatchObject({ requests: 1, dropped: 2 });
      await a.close();
    });
    expect(leftovers).toEqual([]);
  });
});
