import { runTransportSuite } from '@raftkit/transport-suite';
import { listenAll } from './helpers/net.js';

// Real servers on 127.0.0.1 with ephemeral ports; the transports close their own servers,
// so the shared cleanup has nothing left to do.
runTransportSuite({
  name: 'HttpTransport over http on 127.0.0.1',
  factory: async (ids) => ({ transports: await listenAll(ids), cleanup: async () => {} }),
});
