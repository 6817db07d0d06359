import type { Message } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import { type SuiteConfig, useCluster } from '../cluster.js';
import { expectSameMessages, settle } from '../expectations.js';
import { chunkBurst } from '../samples.js';

const COUNT = 16;
const CHUNK_BYTES = 256 * 1024;

/** What a leader streaming a snapshot sends: several chunks in flight, heartbeats between them. */
export function chunkCases(config: SuiteConfig): void {
  describe('streamed snapshot chunks', () => {
    const env = useCluster(config);
    const slow = config.timeoutMs * 3;

    it(`delivers a burst of ${COUNT} × ${CHUNK_BYTES / 1024} KiB chunks in one send call, intact and in order`, async () => {
      const { transports, inboxes, ids } = env.cluster;
      const sent = chunkBurst(ids[0], ids[1], COUNT, CHUNK_BYTES);
      transports[0].send(sent);
      await settle(inboxes[1], sent.length, config);
      expectSameMessages(inboxes[1].messages, sent, config);
    }, slow * 2);

    it.skipIf(!config.supports.ordered)(`keeps order between ${COUNT} chunks sent one by one and heartbeats sent between them`, async () => {
      const { transports, inboxes, ids } = env.cluster;
      const sent: Message[] = [];
      chunkBurst(ids[0], ids[1], COUNT, CHUNK_BYTES).forEach((chunk, i) => {
        const heartbeat: Message = { type: 'heartbeat', from: ids[0], to: ids[1], term: chunk.term, commit: 0, context: i };
        transports[0].send([chunk]);
        transports[0].send([heartbeat]);
        sent.push(chunk, heartbeat);
      });
      await settle(inboxes[1], sent.length, config);
      // For a lossy transport: whatever arrived, arrived in send order.
      const positions = inboxes[1].messages.map((m) => sent.findIndex((s) => s.type === m.type && sameSlot(s, m)));
      expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])), `arrival order ${positions.join(',')}`).toBe(true);
      expectSameMessages(inboxes[1].messages, sent, config);
    }, slow * 2);
  });
}

/** Same chunk offset or same heartbeat context: which of the sent messages `m` is. */
function sameSlot(sent: Message, m: Message): boolean {
  if (sent.type === 'snapshotChunk' && m.type === 'snapshotChunk') return sent.offset === m.offset;
  if (sent.type === 'heartbeat' && m.type === 'heartbeat') return sent.context === m.context;
  return false;
}
