import type { AppendRequest, Message } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import { type SuiteConfig, useCluster } from '../cluster.js';
import { allArrived, expectSameMessages } from '../expectations.js';
import { pause } from '../inbox.js';
import { MESSAGE_TYPES, samplesOfType, sampleMessages } from '../samples.js';

function cloneBytes(message: AppendRequest): AppendRequest {
  return { ...message, entries: message.entries.map((e) => ({ ...e, data: e.data.slice() })) };
}

export function deliveryCases(config: SuiteConfig): void {
  describe('delivery', () => {
    const env = useCluster(config);
    const wait = config.timeoutMs;

    it.each(MESSAGE_TYPES)('delivers every %s sample intact', async (type) => {
      const { transports, inboxes, ids } = env.cluster;
      const sent = samplesOfType(type, ids[0], ids[1]);
      transports[0].send(sent);
      await inboxes[1].until(() => allArrived(inboxes[1].messages, sent), `${type} samples`, wait);
      expectSameMessages(inboxes[1].messages, sent, config);
    });

    it('delivers each message to its addressee only, in every direction', async () => {
      const { transports, inboxes, ids } = env.cluster;
      const sentTo = ids.map(() => [] as Message[]);
      ids.forEach((from, i) => {
        const batch = ids.filter((to) => to !== from).flatMap((to) => samplesOfType('heartbeat', from, to));
        batch.forEach((m) => sentTo[ids.indexOf(m.to)].push(m));
        transports[i].send(batch);
      });
      await Promise.all(inboxes.map((inbox, i) => inbox.until(() => allArrived(inbox.messages, sentTo[i]), 'heartbeats', wait)));
      await pause(config.quietMs);
      inboxes.forEach((inbox, i) => {
        expect(inbox.messages.every((m) => m.to === ids[i])).toBe(true);
        expectSameMessages(inbox.messages, sentTo[i], { ...config, supports: { ...config.supports, ordered: false } });
      });
    });

    it('delivers the message as it was when sent, even if the sender then mutates it', async () => {
      const { transports, inboxes, ids } = env.cluster;
      const message = samplesOfType('append', ids[0], ids[1])[0];
      const expected = cloneBytes(message);
      transports[0].send([message]);
      message.entries.forEach((e) => e.data.fill(0));
      await inboxes[1].untilMessages(1, wait);
      expectSameMessages(inboxes[1].messages.slice(0, 1), [expected], config);
    });

    it('gives the receiver bytes it does not share with the sender', async () => {
      const { transports, inboxes, ids } = env.cluster;
      const message = samplesOfType('append', ids[0], ids[1])[0];
      const expected = cloneBytes(message);
      transports[0].send([message]);
      await inboxes[1].untilMessages(1, wait);
      const received = inboxes[1].messages[0] as AppendRequest;
      received.entries.forEach((e) => e.data.fill(0xff));
      expectSameMessages([message], [expected], config);
    });

    it('delivers a mixed batch of every type in one send call', async () => {
      const { transports, inboxes, ids } = env.cluster;
      const sent = sampleMessages(ids[2], ids[0]);
      transports[2].send(sent);
      await inboxes[0].until(() => allArrived(inboxes[0].messages, sent), 'all samples', wait);
      expectSameMessages(inboxes[0].messages, sent, config);
    });
  });
}
