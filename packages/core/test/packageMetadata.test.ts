// Issue 13 item 6: what an installed package must carry, checked for every library package of
// the workspace (they are published together): a LICENSE file, keywords, a `./package.json`
// export, and source maps in dist (stack traces that point at the source, with
// --enable-source-maps). Runs against dist (turbo builds every package before the tests).
// That @raftkit/core/testing resolves under moduleResolution node10 (typesVersions) and node16
// is checked on the packed tarballs by checks/packaging (fixtures/node10.ts, fixtures/index.ts).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const packagesDir = fileURLToPath(new URL('../..', import.meta.url));
const names = readdirSync(packagesDir).filter((n) => existsSync(join(packagesDir, n, 'package.json')));
const manifest = (name: string) => JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8')) as Record<string, unknown>;

describe('every library package ships what an installed package needs', () => {
  test('the workspace has the packages this checks', () => {
    expect(names).toEqual(expect.arrayContaining(['core', 'kv', 'log-memory', 'log-rocksdb', 'transport-http']));
  });

  test.each(names)('%s: LICENSE (MIT, as package.json says), keywords, ./package.json export', (name) => {
    const pkg = manifest(name);
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(packagesDir, name, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(Array.isArray(pkg.keywords) && pkg.keywords.length > 0).toBe(true);
    expect((pkg.exports as Record<string, unknown>)['./package.json']).toBe('./package.json');
  });

  test.each(names)('%s: dist has a source map beside each entry point', (name) => {
    const dist = join(packagesDir, name, 'dist');
    for (const file of ['index.js', 'index.cjs']) {
      expect(existsSync(join(dist, `${file}.map`)), `${name}/dist/${file}.map`).toBe(true);
      expect(readFileSync(join(dist, file), 'utf8')).toMatch(/\/\/# sourceMappingURL=index\.c?js\.map\s*$/);
    }
  });
});
