import { runLogStorageSuite } from '@raftkit/log-storage-suite';
import { MemoryLogStorage, MemoryLogStore } from '../src/index.js';

runLogStorageSuite({
  name: 'MemoryLogStorage conformance',
  factory: async () => {
    const store = new MemoryLogStore();
    return { open: async () => MemoryLogStorage.open(store), destroy: async () => undefined };
  },
  supports: { reopen: true },
});
