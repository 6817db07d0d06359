import { runTransportSuite } from '../src/index.js';
import { AddressedLoopback } from './addressedLoopback.js';
import { LoopbackHub } from './loopback.js';

runTransportSuite({
  name: 'loopback (the suite checking itself)',
  factory: async (ids) => {
    const hub = new LoopbackHub();
    return { transports: ids.map((id) => hub.transport(id)), cleanup: async () => hub.cleanup() };
  },
});

runTransportSuite({
  name: 'loopback routed by address (the suite checking its updatePeers cases)',
  factory: async (ids) => {
    const transports = ids.map((id) => new AddressedLoopback(id));
    for (const t of transports) for (const other of transports) if (other !== t) t.setPeer(other.id, other.address);
    const addresses = Object.fromEntries(transports.map((t) => [t.id, t.address]));
    return { transports, addresses, cleanup: async () => {} };
  },
});
