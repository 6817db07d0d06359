import type { SnapshotChunkRequest, SnapshotRequest } from '@raftkit/core';
import { chunkBurst, diffValues, largeChunk, samplesOfType } from '@raftkit/transport-suite';
import { describe, expect, it } from 'vitest';
import { virtualCluster } from './helpers.js';

function deliveredChunks(cluster: Awaited<ReturnType<typeof virtualCluster>>, to: string): SnapshotChunkRequest[] {
  return cluster.recorders[to].arrivals.map((a) => a.message as SnapshotChunkRequest);
}

describe('streamed snapshots', () => {
  it('copies chunk data at send: mutating the sent buffer afterwards changes nothing delivered', async () => {
    const cluster = await virtualCluster(1);
    const sent = largeChunk('n1', 'n2', 64 * 1024);
    const expected = { ...sent, data: sent.data.slice() };
    cluster.transports.n1.send([sent]);
    sent.data.fill(0);
    cluster.clock.runUntilIdle();
    const [got] = deliveredChunks(cluster, 'n2');
    expect(diffValues(got, expected)).toBeNull();
  });

  it('gives the receiver chunk data and meta it does not share with the sender, even a view into a larger buffer', async () => {
    const cluster = await virtualCluster(1);
    const sent = samplesOfType('snapshotChunk', 'n1', 'n2');
    const viewing = sent.find((c) => c.data.byteOffset > 0)!;
    cluster.transports.n1.send(sent);
    cluster.clock.runUntilIdle();
    const got = deliveredChunks(cluster, 'n2');
    expect(got).toHaveLength(sent.length);
    got.forEach((chunk, i) => {
      expect(chunk.data.buffer).not.toBe(sent[i].data.buffer);
      expect(chunk.meta).not.toBe(sent[i].meta);
      expect(Object.getPrototypeOf(chunk.data)).toBe(Uint8Array.prototype);
    });
    const copiedView = got[sent.indexOf(viewing)].data;
    // Only the view's bytes travel, not the buffer around them.
    expect([copiedView.byteOffset, copiedView.buffer.byteLength]).toEqual([0, viewing.data.byteLength]);
    const before = sent.map((c) => c.data.slice());
    for (const chunk of got) chunk.data.fill(0xff);
    sent.forEach((c, i) => expect(diffValues(c.data, before[i])).toBeNull());
  });

  it('gives each duplicate its own copy of the data', async () => {
    const cluster = await virtualCluster(1, { duplicate: 1 });
    const sent = largeChunk('n1', 'n2', 1024);
    const expected = { ...sent, data: sent.data.slice() };
    cluster.transports.n1.send([sent]);
    cluster.clock.runUntilIdle();
    const [a, b] = deliveredChunks(cluster, 'n2');
    expect(diffValues(b, expected)).toBeNull();
    a.data.fill(0);
    expect(diffValues(b, expected)).toBeNull();
  });

  it('delivers a burst of chunks in order, and counts chunk, response and meta-only snapshot messages by type', async () => {
    const cluster = await virtualCluster(1);
    const burst = chunkBurst('n1', 'n2', 8, 4096);
    cluster.transports.n1.send(burst);
    cluster.transports.n2.send(samplesOfType('snapshotChunkResponse', 'n2', 'n1'));
    cluster.transports.n2.send(samplesOfType('snapshot', 'n2', 'n3') as SnapshotRequest[]);
    cluster.clock.runUntilIdle();
    expect(deliveredChunks(cluster, 'n2').map((c) => c.offset)).toEqual(burst.map((c) => c.offset));
    const { byType } = cluster.network.stats();
    expect(byType.snapshotChunk).toEqual({ sent: 8, delivered: 8, dropped: 0, duplicated: 0, unreachable: 0 });
    expect(byType.snapshotChunkResponse.delivered).toBe(samplesOfType('snapshotChunkResponse', 'n2', 'n1').length);
    expect(byType.snapshot.delivered).toBe(4);
  });
});
