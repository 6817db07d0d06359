import { runTransportSuite } from '../src/index.js';
import { LoopbackHub } from './loopback.js';

runTransportSuite({
  name: 'loopback (the suite checking itself)',
  factory: async (ids) => {
    const hub = new LoopbackHub();
    return { transports: ids.map((id) => hub.transport(id)), cleanup: async () => hub.cleanup() };
  },
});
