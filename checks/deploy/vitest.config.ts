import { defineConfig } from 'vitest/config';

// One file at a time: grafana.test.ts starts a real server (RocksDB, a port).
export default defineConfig({
  test: { fileParallelism: false, testTimeout: 60_000 },
});
