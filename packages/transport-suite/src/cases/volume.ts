import type { Message } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import { type SuiteConfig, useCluster } from '../cluster.js';
import { diffValues } from '../compare.js';
import { expectSameMessages, settle } from '../expectations.js';
import { MiB, largeAppend, largeChunk, sequenceOf, sequencedMessage } from '../samples.js';

const PER_SENDER = 2500;
const BATCH = 50;

function sendInBatches(send: (batch: Message[]) => void, from: string, to: string): void {
  for (let start = 0; start < PER_SENDER; start += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, i) => sequencedMessage(from, to, start + i));
    send(batch);
  }
}

export function volumeCases(config: SuiteConfig): void {
  describe('large and many messages', () => {
    const env = useCluster(config);
    const slow = config.timeoutMs * 3;

    it('delivers an append carrying 4 MiB of entries intact', async () => {
      const { transports, inboxes, ids } = env.cluster;
      const message = largeAppend(ids[0], ids[1]);
      expect(message.entries.reduce((n, e) => n + e.data.byteLength, 0)).toBeGreaterThanOrEqual(4 * MiB);
      transports[0].send([message]);
      await inboxes[1].untilMessages(1, slow);
      expectSameMessages(inboxes[1].messages, [message], config);
    }, slow * 2);

    // RaftNode streams snapshots in 1 MiB chunks by default; a larger chunk size can be configured.
    it.each([1, 4])('delivers a snapshot chunk carrying %i MiB of data intact', async (mib) => {
      const { transports, inboxes, ids } = env.cluster;
      const message = largeChunk(ids[1], ids[2], mib * MiB);
      transports[1].send([message]);
      await inboxes[2].untilMessages(1, slow);
      expectSameMessages(inboxes[2].messages, [message], config);
    }, slow * 2);

    it(`delivers ${2 * PER_SENDER} messages from two senders, each intact`, async () => {
      const { transports, inboxes, ids } = env.cluster;
      sendInBatches((batch) => transports[0].send(batch), ids[0], ids[1]);
      sendInBatches((batch) => transports[2].send(batch), ids[2], ids[1]);
      await settle(inboxes[1], 2 * PER_SENDER, config);
      const received = inboxes[1].messages;
      const bad = received.find((m) => diffValues(m, sequencedMessage(m.from, m.to, sequenceOf(m))) !== null);
      expect(bad, 'a corrupted message').toBeUndefined();
      if (!config.supports.lossless) return expect(received.length).toBeGreaterThan(0);
      for (const from of [ids[0], ids[2]]) {
        const seqs = new Set(received.filter((m) => m.from === from).map(sequenceOf));
        expect(seqs.size, `distinct messages from ${from}`).toBe(PER_SENDER);
      }
      expect(received.length).toBe(2 * PER_SENDER);
    }, slow * 2);
  });
}
