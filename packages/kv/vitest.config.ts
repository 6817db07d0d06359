import { defineConfig } from 'vitest/config';

// Seeded, CPU-bound tests (watchRandom's 200 seeds take about 4 s alone): the timeout only
// guards against a hang, and a busy machine must not turn it into a failure.
export default defineConfig({
  test: { testTimeout: 60_000 },
});
