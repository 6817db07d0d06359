import { runLogStorageSuite } from '@raftkit/log-storage-suite';
import { RocksLogStorage } from '../src/index.js';
import { makeTempDir, removeDir } from './tempDir.js';

runLogStorageSuite({
  name: 'RocksLogStorage conformance',
  factory: async () => {
    const dir = await makeTempDir();
    return { open: () => RocksLogStorage.open(dir), destroy: () => removeDir(dir) };
  },
  supports: { reopen: true, largeEntries: true },
});

// The same suite with tiny batches and term cache, so grouping limits and disk term reads
// are exercised by every case too.
runLogStorageSuite({
  name: 'RocksLogStorage conformance (1-byte batches, no term cache)',
  factory: async () => {
    const dir = await makeTempDir();
    return {
      open: () => RocksLogStorage.open(dir, { maxBatchBytes: 1, termCacheSize: 0, verifyOnOpen: Infinity }),
      destroy: () => removeDir(dir),
    };
  },
  supports: { reopen: true, largeEntries: true },
});
