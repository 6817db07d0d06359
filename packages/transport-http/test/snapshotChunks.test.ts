// Issue 12: a leader streams a snapshot as chunk messages. Each chunk goes alone in its request
// under the snapshot header (so maxSnapshotBytes applies and a heartbeat behind it waits for one
// chunk only); meta-only snapshots and chunk responses are small and batch like anything else;
// chunks count toward the per-peer queue bounds, so a peer never queues unboundedly many.
import type { HeartbeatRequest, Message } from '@raftkit/core';
import { MiB, chunkBurst, diffValues, largeChunk, samplesOfType } from '@raftkit/transport-suite';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../src/index.js';
import { SECRET, closeAll, startAll, waitFor } from './helpers/net.js';

let opened: HttpTransport[] = [];
afterEach(async () => {
  await closeAll(opened);
  opened = [];
});

const heartbeat = (context: number): HeartbeatRequest => ({ type: 'heartbeat', from: 'n1', to: 'n2', term: 4, commit: 0, context });

describe('snapshot chunks over HTTP', () => {
  // Without streams the chunk travels alone in its own request; with option stream, alone in a
  // snapshot frame on the stream.
  it.each([
    { stream: false, expected: { requests: 3, failures: 0, tooLarge: 0 } },
    { stream: true, expected: { stream: 'open', requests: 0, failures: 0 } },
  ])('a chunk with membership over maxBodyBytes but under maxSnapshotBytes arrives alone and intact between two heartbeats (stream: $stream)', async ({ stream, expected }) => {
    opened = await Promise.all([
      HttpTransport.listen({ id: 'n1', secret: SECRET, stream }),
      HttpTransport.listen({ id: 'n2', secret: SECRET, maxBodyBytes: 1 * MiB, maxSnapshotBytes: 4 * MiB }),
    ]);
    const [sender, receiver] = opened;
    sender.setPeer('n2', receiver.url!);
    receiver.setPeer('n1', sender.url!);
    const delivered: Message[] = [];
    await sender.start({ onMessage: () => {} });
    await receiver.start({ onMessage: (m) => void delivered.push(m) });
    const chunk = largeChunk('n1', 'n2', 2 * MiB);
    expect(chunk.meta.membership).toBeDefined();
    sender.send([heartbeat(1), chunk, heartbeat(2)]);
    await waitFor(() => delivered.length === 3, 'the chunk between two heartbeats');
    expect(delivered.map((m) => m.type)).toEqual(['heartbeat', 'snapshotChunk', 'heartbeat']);
    expect(diffValues(delivered[1], chunk)).toBeNull();
    expect(sender.stats().peers.n2).toMatchObject(expected);
  });

  it('sends each of a burst of 16 × 256 KiB chunks in its own request, in order and intact', async () => {
    const { transports, inboxes } = await startAll(['n1', 'n2']);
    opened = transports;
    const burst = chunkBurst('n1', 'n2');
    transports[0].send(burst);
    await waitFor(() => inboxes[1].messages.length === burst.length, 'every chunk');
    inboxes[1].messages.forEach((m, i) => expect(diffValues(m, burst[i], `chunk #${i}`)).toBeNull());
    // The sender counts a message sent once its request's answer is back, just after delivery.
    await waitFor(() => transports[0].stats().peers.n2.sent === 16, 'the last answer');
    expect(transports[0].stats().peers.n2).toMatchObject({ requests: 16, dropped: 0 });
  });

  it('batches meta-only snapshots and chunk responses with other messages: they are small', async () => {
    const { transports, inboxes } = await startAll(['n1', 'n2']);
    opened = transports;
    const sent: Message[] = [heartbeat(1), ...samplesOfType('snapshot', 'n1', 'n2'), ...samplesOfType('snapshotChunkResponse', 'n1', 'n2'), heartbeat(2)];
    transports[0].send(sent);
    await waitFor(() => inboxes[1].messages.length === sent.length, 'the batch');
    inboxes[1].messages.forEach((m, i) => expect(diffValues(m, sent[i], `#${i}`)).toBeNull());
    expect(transports[0].stats().peers.n2.requests).toBe(1);
  });

  it('counts chunks toward maxQueuedBytes: beyond it the oldest are dropped and counted, the newest go out in order', async () => {
    const { transports, inboxes } = await startAll(['n1', 'n2'], { maxQueuedBytes: 1 * MiB });
    opened = transports;
    const burst = chunkBurst('n1', 'n2'); // 16 × 256 KiB: 4 MiB, four times the bound
    transports[0].send(burst);
    // Trimmed inside send, before any request: the newest chunk (exempt) and the three before it that fit.
    const { queued, dropped } = transports[0].stats().peers.n2;
    expect([queued, dropped]).toEqual([4, 12]);
    await waitFor(() => inboxes[1].messages.length === 4, 'the chunks kept');
    expect(inboxes[1].messages.map((m) => (m.type === 'snapshotChunk' ? m.offset : -1))).toEqual(burst.slice(12).map((c) => c.offset));
    await waitFor(() => transports[0].stats().peers.n2.sent === 4, 'the last answer');
    expect(transports[0].stats().peers.n2).toMatchObject({ dropped: 12, queued: 0 });
  });

  it('keeps the newest chunk even when it alone exceeds maxQueuedBytes, and the heartbeat after it', async () => {
    const { transports, inboxes } = await startAll(['n1', 'n2'], { maxQueuedBytes: 64 * 1024 });
    opened = transports;
    const older = largeChunk('n1', 'n2', 512 * 1024, 0);
    const newest = largeChunk('n1', 'n2', 512 * 1024);
    transports[0].send([heartbeat(1), older, newest, heartbeat(2)]);
    expect(transports[0].stats().peers.n2).toMatchObject({ queued: 2, dropped: 2 });
    await waitFor(() => inboxes[1].messages.length === 2, 'the newest chunk and the last heartbeat');
    expect(diffValues(inboxes[1].messages, [newest, heartbeat(2)])).toBeNull();
  });
});
