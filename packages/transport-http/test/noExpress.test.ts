import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// express is a devDependency only: nothing the package ships may import it, at runtime or in
// its types (a TypeScript user must not need @types/express).

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const importsOf = (text: string): string[] => [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]);
const isExpress = (spec: string): boolean => /^(express|express4|@types\/express)(\/|$)/.test(spec);

/** Every module src/index.ts reaches through relative imports, with what each imports. */
function sourceGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (graph.has(file)) return;
    const specs = importsOf(readFileSync(file, 'utf8'));
    graph.set(file, specs);
    for (const spec of specs) if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
  };
  visit(join(root, 'src/index.ts'));
  return graph;
}

describe('no express in what ships', () => {
  it('no module reachable from src/index.ts imports express', () => {
    const graph = sourceGraph();
    expect(graph.size).toBeGreaterThan(10);
    const offenders = [...graph].filter(([, specs]) => specs.some(isExpress)).map(([file]) => file);
    expect(offenders).toEqual([]);
  });

  it.runIf(existsSync(join(root, 'dist/index.d.ts')))('the built bundle and its types import no express (after `pnpm --filter @raftkit/transport-http build`)', () => {
    for (const file of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']) {
      const specs = importsOf(readFileSync(join(root, file), 'utf8'));
      expect(specs.filter(isExpress), file).toEqual([]);
      expect(specs, file).toContain('@raftkit/core');
    }
  });
});
