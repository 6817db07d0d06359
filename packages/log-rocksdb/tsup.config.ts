import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // import.meta.url in the CJS build too: writeThread.ts finds the worker file beside it.
  shims: true,
  // The write worker is plain JavaScript that runs as it is, from src under vitest and from
  // dist beside index.js and index.cjs.
  onSuccess: () => copyFile('src/writeWorker.cjs', 'dist/writeWorker.cjs'),
});
