import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // fsync-bound tests: generous per-test bounds so a slow disk does not make them flaky.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
