import type { Message, NodeId, Transport } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import { type RunningCluster, type SuiteConfig, startCluster, useCluster } from '../cluster.js';
import { expectSameMessages, settle } from '../expectations.js';
import { pause } from '../inbox.js';
import { samplesOfType, sequencedMessage } from '../samples.js';

const BATCHES = 30;
const PER_BATCH = 10;
/** The lone node the last case adds; not one of the suite's default ids. */
const NEWCOMER = 'n-new';

type Addressed = Transport & { updatePeers(addresses: Readonly<Record<NodeId, string>>): void };

/**
 * The transports of a cluster that route by address, with their addresses; null (the case is
 * skipped) for a transport without `updatePeers`, which routes by id (the memory transport).
 */
function addressed(cluster: RunningCluster): { transports: Addressed[]; addresses: Readonly<Record<NodeId, string>> } | null {
  if (!cluster.transports.every((t) => typeof t.updatePeers === 'function')) return null;
  expect(cluster.addresses, 'a factory of transports with updatePeers must return their addresses').toBeDefined();
  return { transports: cluster.transports as Addressed[], addresses: cluster.addresses! };
}

/** The runtime calls updatePeers with the addresses of the latest configuration (interfaces.ts). */
export function updatePeersCases(config: SuiteConfig): void {
  describe('updatePeers', () => {
    const env = useCluster(config);
    const wait = config.timeoutMs;

    it('loses and reorders nothing when the same addresses are announced again and again', async (ctx) => {
      const net = addressed(env.cluster);
      if (!net) return ctx.skip();
      const { ids, inboxes } = env.cluster;
      const sent: Message[] = [];
      for (let b = 0; b < BATCHES; b++) {
        const batch = Array.from({ length: PER_BATCH }, (_, i) => sequencedMessage(ids[0], ids[1], b * PER_BATCH + i));
        net.transports[0].send(batch);
        sent.push(...batch);
        // Between sends, as the runtime does: re-announcing a known address must not reset its link.
        net.transports[0].updatePeers(net.addresses);
      }
      await settle(inboxes[1], sent.length, config);
      expectSameMessages(inboxes[1].messages, sent, config);
    });

    it('keeps the peers it was configured with when an address map lacks them', async (ctx) => {
      const net = addressed(env.cluster);
      if (!net) return ctx.skip();
      const { ids, inboxes } = env.cluster;
      // A bootstrap configuration carries no addresses: the map can be empty or partial.
      net.transports[0].updatePeers({});
      net.transports[0].updatePeers({ [ids[1]]: net.addresses[ids[1]] });
      const sent = [ids[1], ids[2]].flatMap((to) => samplesOfType('heartbeat', ids[0], to));
      net.transports[0].send(sent);
      await inboxes[1].untilMessages(1, wait);
      await inboxes[2].untilMessages(1, wait);
      expect(inboxes[0].unreachable).toEqual([]);
    });

    it('reaches a member it learns only from updatePeers, and stops once the member leaves the map', async (ctx) => {
      const net = addressed(env.cluster);
      if (!net) return ctx.skip();
      const { ids, inboxes } = env.cluster;
      const lone = await startCluster(config, [NEWCOMER]);
      try {
        const newcomer = lone.transports[0] as Addressed;
        const withNewcomer = { ...net.addresses, [NEWCOMER]: lone.addresses![NEWCOMER] };
        net.transports[0].updatePeers(withNewcomer);
        newcomer.updatePeers(withNewcomer);
        const [hello] = samplesOfType('heartbeat', ids[0], NEWCOMER);
        net.transports[0].send([hello]);
        await lone.inboxes[0].untilMessages(1, wait);
        newcomer.send(samplesOfType('heartbeatResponse', NEWCOMER, ids[0]));
        await inboxes[0].untilMessages(1, wait);

        // Removed from the configuration: the newcomer is not dialled any more.
        net.transports[0].updatePeers(net.addresses);
        net.transports[0].send([hello]);
        await inboxes[0].until(() => inboxes[0].unreachable.includes(NEWCOMER), `unreachable ${NEWCOMER}`, wait);
        await pause(config.quietMs);
        expect(lone.inboxes[0].messages).toHaveLength(1);
      } finally {
        await lone.close();
      }
    });
  });
}
