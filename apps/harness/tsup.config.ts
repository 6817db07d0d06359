import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', worker: 'src/sim/worker.ts' },
  format: ['esm'],
  clean: true,
  banner: { js: '' },
});
