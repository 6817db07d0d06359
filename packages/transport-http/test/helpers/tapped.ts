import type { Message, Transport, TransportHandler } from '@raftkit/core';
import type { HttpTransport } from '../../src/index.js';

/** What a test does to the traffic of a tapped transport. */
export interface Tap {
  /** Sees each inbound message; false drops it. Default: deliver everything. */
  deliver?(m: Message): boolean;
  /** Rewrites the outbound batch; null drops it. Default: send as is. */
  send?(messages: readonly Message[]): readonly Message[] | null;
}

/** `transport` as a RaftNode's Transport, with the test's tap on its traffic both ways. */
export function tapped(transport: HttpTransport, tap: Tap): Transport {
  return {
    id: transport.id,
    start: (handler: TransportHandler) =>
      transport.start({
        onMessage: (m) => {
          if (tap.deliver?.(m) !== false) handler.onMessage(m);
        },
        onUnreachable: (peer) => handler.onUnreachable?.(peer),
      }),
    send: (messages) => {
      const out = tap.send ? tap.send(messages) : messages;
      if (out) transport.send(out);
    },
    updatePeers: (addresses) => transport.updatePeers(addresses),
    close: () => transport.close(),
  };
}
