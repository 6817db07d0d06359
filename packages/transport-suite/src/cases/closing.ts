import type { NodeId, Transport } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import { type SuiteConfig, startCluster, useCluster } from '../cluster.js';
import { allArrived } from '../expectations.js';
import { pause } from '../inbox.js';
import { ResourceTracker } from '../resources.js';
import { sampleMessages, samplesOfType, sequencedMessage } from '../samples.js';

/** Every node sends every sample to its neighbour, and one message to an unknown peer. */
function exchangeTraffic(transports: readonly Transport[], ids: readonly NodeId[]): void {
  ids.forEach((from, i) => transports[i].send(sampleMessages(from, ids[(i + 1) % ids.length])));
  transports[0].send(samplesOfType('heartbeat', ids[0], 'n-unknown'));
}

export function closingCases(config: SuiteConfig): void {
  const wait = config.timeoutMs;
  describe('closing', () => {
    const env = useCluster(config);

    it('delivers nothing to a transport once its close() has resolved', async () => {
      const { transports, inboxes, ids } = env.cluster;
      transports[0].send(Array.from({ length: 200 }, (_, i) => sequencedMessage(ids[0], ids[1], i)));
      await transports[1].close();
      const delivered = inboxes[1].messages.length;
      transports[0].send(sampleMessages(ids[0], ids[1]));
      await pause(config.quietMs);
      expect(inboxes[1].messages.length).toBe(delivered);
    });

    it('a closed transport’s send neither throws, delivers nor reports', async () => {
      const { transports, inboxes, ids } = env.cluster;
      await transports[0].close();
      const sent = [...sampleMessages(ids[0], ids[1]), ...samplesOfType('vote', ids[0], 'n-unknown')];
      expect(() => transports[0].send(sent)).not.toThrow();
      await pause(config.quietMs);
      expect(inboxes[1].messages).toEqual([]);
      expect(inboxes[0].unreachable).toEqual([]);
    });

    it('resolves a second close() too', async () => {
      const { transports } = env.cluster;
      await transports[0].close();
      await expect(transports[0].close()).resolves.toBeUndefined();
    });

    it('the other transports keep working after one closes', async () => {
      const { transports, inboxes, ids } = env.cluster;
      await transports[0].close();
      const sent = samplesOfType('heartbeat', ids[1], ids[2]);
      transports[1].send(sent);
      await inboxes[2].until(() => allArrived(inboxes[2].messages, sent), 'heartbeats', wait);
    });
  });

  describe('resources', () => {
    it('leaves no timers, immediates or sockets behind after close and cleanup', async () => {
      const tracker = new ResourceTracker();
      tracker.start();
      try {
        const cluster = await startCluster(config);
        exchangeTraffic(cluster.transports, cluster.ids);
        await cluster.inboxes[1].untilMessages(1, wait);
        cluster.transports[2].send(sampleMessages(cluster.ids[2], cluster.ids[0]));
        await cluster.close();
        tracker.stop();
        const deadline = Date.now() + config.quietMs;
        while (tracker.leaks().length > 0 && Date.now() < deadline) await pause(5);
        expect(tracker.leaks()).toEqual([]);
      } finally {
        tracker.dispose();
      }
    }, wait * 2);
  });
}
