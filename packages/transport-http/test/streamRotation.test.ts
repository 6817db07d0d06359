import { Inbox, sequencedMessage } from '@raftkit/transport-suite';
import { afterEach, expect, it } from 'vitest';
import { secretBytes } from '../src/auth.js';
import { type LinkEvents, PeerLink } from '../src/client/peerLink.js';
import { encodeMessage } from '../src/codec/batch.js';
import { type HttpTransport } from '../src/index.js';
import { newPeerCounters } from '../src/stats.js';
import { SECRET, closeAll, startAll, waitFor } from './helpers/net.js';

// A stream is renewed every minute (STREAM_ROTATE_MS): the old one is ended cleanly, the peer
// delivers everything on it, and only then does the next one open. Here with a 30 ms lifetime.

let transports: HttpTransport[] = [];
let link: PeerLink | null = null;
afterEach(async () => {
  link?.close();
  await closeAll(transports);
  transports = [];
});

it('renews the stream without losing or reordering a message and without falling back', async () => {
  const started = await startAll(['a', 'b']);
  transports = started.transports;
  const inbox: Inbox = started.inboxes[1];
  const errors: Error[] = [];
  const events: LinkEvents = { unreachable: () => errors.push(new Error('unreachable')), error: (e) => errors.push(e), recovered: () => {} };
  const settings = {
    self: 'a', secret: secretBytes(SECRET), tls: undefined, timeoutMs: 5000, maxBatchBytes: 1 << 20, maxQueuedMessages: 10_000, maxQueuedBytes: 1 << 26,
    backoff: { initialMs: 50, maxMs: 5000 }, random: Math.random, lookup: undefined, stream: true, streamOpenTimeoutMs: 1000, streamAckTimeoutMs: 1000, streamRotateMs: 30,
  };
  const counters = newPeerCounters();
  link = new PeerLink('b', new URL(transports[1].url!), settings, counters, events);
  const sent = [];
  for (let i = 0; counters.streamsOpened < 5; i += 1) {
    const message = sequencedMessage('a', 'b', i);
    sent.push(message);
    link.enqueue([encodeMessage(message)]);
    await new Promise((resolve) => setTimeout(resolve, 2));
    if (i > 5000) throw new Error(`only ${counters.streamsOpened} streams opened`);
  }
  await waitFor(() => inbox.messages.length === sent.length, `all ${sent.length} messages`);
  expect(inbox.messages).toEqual(sent);
  expect(counters).toMatchObject({ requests: 0, failures: 0, dropped: 0 });
  expect(errors).toEqual([]);
});
