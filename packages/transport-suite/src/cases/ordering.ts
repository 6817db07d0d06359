import type { Message } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import { type SuiteConfig, useCluster } from '../cluster.js';
import { expectIncreasing, settle } from '../expectations.js';
import { sequenceOf, sequencedMessage } from '../samples.js';

const COUNT = 400;

function sequence(from: string, to: string, count: number): Message[] {
  return Array.from({ length: count }, (_, seq) => sequencedMessage(from, to, seq));
}

export function orderingCases(config: SuiteConfig): void {
  const { ordered, lossless } = config.supports;
  describe.skipIf(!ordered)('per-peer ordering', () => {
    const env = useCluster(config);

    function expectInOrder(received: readonly Message[], count: number): void {
      const seqs = received.map(sequenceOf);
      expectIncreasing(seqs);
      if (lossless) expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i));
    }

    it(`keeps send order across ${COUNT} send calls, mixing message types`, async () => {
      const { transports, inboxes, ids } = env.cluster;
      for (const message of sequence(ids[0], ids[1], COUNT)) transports[0].send([message]);
      await settle(inboxes[1], COUNT, config);
      expectInOrder(inboxes[1].messages, COUNT);
    });

    it(`keeps send order within one batch of ${COUNT}`, async () => {
      const { transports, inboxes, ids } = env.cluster;
      transports[0].send(sequence(ids[0], ids[1], COUNT));
      await settle(inboxes[1], COUNT, config);
      expectInOrder(inboxes[1].messages, COUNT);
    });

    it('keeps each sender’s order when two senders interleave', async () => {
      const { transports, inboxes, ids } = env.cluster;
      const fromA = sequence(ids[0], ids[1], COUNT);
      const fromC = sequence(ids[2], ids[1], COUNT);
      for (let i = 0; i < COUNT; i++) {
        transports[0].send([fromA[i]]);
        transports[2].send([fromC[i]]);
      }
      await settle(inboxes[1], 2 * COUNT, config);
      expectInOrder(inboxes[1].messages.filter((m) => m.from === ids[0]), COUNT);
      expectInOrder(inboxes[1].messages.filter((m) => m.from === ids[2]), COUNT);
    });
  });
}
