import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// The README example test imports packages by name, as a user would. They resolve to source:
// log-memory and transport-memory depend on core, so core cannot depend on them.
export default defineConfig({
  // Core tests run on virtual time (no real timers to race), so two files at once use both
  // cores of the CI machine: 77 s -> 46 s here, most of it the seeded simulations.
  // The timeout only guards against a hang: CI runs this suite beside log-rocksdb's.
  test: { maxWorkers: 2, testTimeout: 60_000 },
  resolve: {
    alias: {
      '@raftkit/core': here('./src/index.ts'),
      '@raftkit/log-memory': here('../log-memory/src/index.ts'),
      '@raftkit/transport-memory': here('../transport-memory/src/index.ts'),
    },
  },
});
