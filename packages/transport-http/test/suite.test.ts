import { runTransportSuite } from '@raftkit/transport-suite';
import { suiteCluster } from './helpers/net.js';

// Real servers on 127.0.0.1 with ephemeral ports.
runTransportSuite({
  name: 'HttpTransport over http on 127.0.0.1',
  factory: (ids) => suiteCluster(ids),
});

// The same suite with every peer link on a stream (option `stream`).
runTransportSuite({
  name: 'HttpTransport over http on 127.0.0.1, streaming peer links',
  factory: (ids) => suiteCluster(ids, { stream: true }),
});
