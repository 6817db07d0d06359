import { defineConfig } from 'vitest/config';

// Examples run one at a time (each spawns tsx, some open sockets or RocksDB directories).
export default defineConfig({
  test: { fileParallelism: false, testTimeout: 60_000 },
});
