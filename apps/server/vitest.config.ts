import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file runs real 3-node clusters; one file at a time keeps a 2-core machine's
    // election timing honest. Bounds are generous, but every wait inside polls a deadline.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
