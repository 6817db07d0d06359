import { describe, expect, it } from 'vitest';
import { type SuiteConfig, useCluster } from '../cluster.js';
import { pause } from '../inbox.js';
import { samplesOfType } from '../samples.js';

const UNKNOWN = 'n-unknown';

export function unreachableCases(config: SuiteConfig): void {
  describe('unreachable peers', () => {
    const env = useCluster(config);
    const wait = config.timeoutMs;

    it('reports an unknown peer through onUnreachable, after send returns, without throwing', async () => {
      const { transports, inboxes, ids } = env.cluster;
      const [message] = samplesOfType('heartbeat', ids[0], UNKNOWN);
      expect(() => transports[0].send([message])).not.toThrow();
      expect(inboxes[0].unreachable, 'reported synchronously inside send').toEqual([]);
      await inboxes[0].until(() => inboxes[0].unreachable.includes(UNKNOWN), `unreachable ${UNKNOWN}`, wait);
    });

    it('still delivers the rest of a batch that names an unknown peer, and reports only that peer', async () => {
      const { transports, inboxes, ids } = env.cluster;
      const [lost] = samplesOfType('vote', ids[0], UNKNOWN);
      const [kept] = samplesOfType('vote', ids[0], ids[1]);
      transports[0].send([lost, kept]);
      await inboxes[1].untilMessages(1, wait);
      await inboxes[0].until(() => inboxes[0].unreachable.includes(UNKNOWN), `unreachable ${UNKNOWN}`, wait);
      await pause(config.quietMs);
      expect(new Set(inboxes[0].unreachable)).toEqual(new Set([UNKNOWN]));
      expect(inboxes[1].messages.map((m) => m.type)).toEqual(['vote']);
    });

    it.skipIf(!config.supports.closedPeerUnreachable)('reports a peer whose transport has closed', async () => {
      const { transports, inboxes, ids } = env.cluster;
      await transports[2].close();
      expect(() => transports[0].send(samplesOfType('append', ids[0], ids[2]))).not.toThrow();
      await inboxes[0].until(() => inboxes[0].unreachable.includes(ids[2]), `unreachable ${ids[2]}`, wait);
      expect(inboxes[2].messages).toEqual([]);
    });
  });
}
