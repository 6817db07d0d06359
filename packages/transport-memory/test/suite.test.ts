import { runTransportSuite } from '@raftkit/transport-suite';
import { MemoryNetwork, type LinkFaults } from '../src/index.js';

function factoryWith(faults?: LinkFaults) {
  return async (ids: readonly string[]) => {
    const network = new MemoryNetwork({ seed: 20240601, faults });
    return { transports: ids.map((id) => network.transport(id)), cleanup: () => network.close() };
  };
}

runTransportSuite({ name: 'MemoryNetwork without faults', factory: factoryWith() });

// Delays alone keep every link FIFO, so the full suite, ordering included, still holds.
runTransportSuite({ name: 'MemoryNetwork with 0-3 ms delays', factory: factoryWith({ delay: { min: 0, max: 3 } }) });
