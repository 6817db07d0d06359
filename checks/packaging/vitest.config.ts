import { defineConfig } from 'vitest/config';

// One file; beforeAll packs every package and npm-installs the tarballs into a scratch app,
// which takes a while on a cold npm cache.
export default defineConfig({
  test: { fileParallelism: false, testTimeout: 60_000, hookTimeout: 240_000 },
});
