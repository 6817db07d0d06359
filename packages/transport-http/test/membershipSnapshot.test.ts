// Issue 10: a snapshot carrying its membership must still travel alone under the snapshot
// header, so the receiver judges it by maxSnapshotBytes, not maxBodyBytes (it has its own tag).
import type { Message, SnapshotRequest } from '@raftkit/core';
import { MiB, diffValues, largeSnapshot, sampleConfState, samplesOfType } from '@raftkit/transport-suite';
import { afterEach, expect, it } from 'vitest';
import { HttpTransport } from '../src/index.js';
import { SECRET, closeAll, waitFor } from './helpers/net.js';

let opened: HttpTransport[] = [];
afterEach(async () => {
  await closeAll(opened);
  opened = [];
});

it('a snapshot with membership over maxBodyBytes but under maxSnapshotBytes arrives, alone and intact', async () => {
  opened = await Promise.all([
    HttpTransport.listen({ id: 'n1', secret: SECRET }),
    HttpTransport.listen({ id: 'n2', secret: SECRET, maxBodyBytes: 1 * MiB, maxSnapshotBytes: 4 * MiB }),
  ]);
  const [sender, receiver] = opened;
  sender.setPeer('n2', receiver.url!);
  receiver.setPeer('n1', sender.url!);
  const delivered: Message[] = [];
  await sender.start({ onMessage: () => {} });
  await receiver.start({ onMessage: (m) => void delivered.push(m) });
  const plain = largeSnapshot('n1', 'n2', 2 * MiB);
  const snapshot: SnapshotRequest = { ...plain, snapshot: { ...plain.snapshot, meta: { ...plain.snapshot.meta, membership: sampleConfState('n1', 'n2') } } };
  const [heartbeat] = samplesOfType('heartbeat', 'n1', 'n2');
  sender.send([heartbeat, snapshot, heartbeat]);
  await waitFor(() => delivered.length === 3, 'the snapshot between two heartbeats');
  expect(delivered.map((m) => m.type)).toEqual(['heartbeat', 'snapshot', 'heartbeat']);
  expect(diffValues(delivered[1], snapshot)).toBeNull();
  expect(sender.stats().peers.n2).toMatchObject({ requests: 3, failures: 0, tooLarge: 0 });
});
