import { defineConfig } from 'vitest/config';

// CPU-bound checks over generated histories (up to 2.5 s each alone): the timeout only guards
// against a hang, and CI runs this suite beside log-rocksdb's.
export default defineConfig({
  test: { testTimeout: 60_000 },
});
