// Issue 13 item 6: what an installed package must carry, checked for every library package of
// the workspace (they are published together): a LICENSE file, keywords, a `./package.json`
// export, source maps in dist (stack traces that point at the source, with
// --enable-source-maps), and @raftkit/core/testing resolvable under moduleResolution node10.
// Runs against dist (turbo builds every package before the tests).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

test('@raftkit/core/testing resolves under moduleResolution node10 (typesVersions), as it does under node16', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-node10-'));
  try {
    mkdirSync(join(dir, 'node_modules', '@raftkit'), { recursive: true });
    symlinkSync(join(packagesDir, 'core'), join(dir, 'node_modules', '@raftkit', 'core'), 'dir');
    // RaftNode's types extend node's EventEmitter: an app has @types/node.
    symlinkSync(dirname(createRequire(import.meta.url).resolve('@types/node/package.json')), join(dir, 'node_modules', '@types-node'), 'dir');
    mkdirSync(join(dir, 'node_modules', '@types'));
    symlinkSync(join(dir, 'node_modules', '@types-node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
    writeFileSync(join(dir, 'app.ts'), "import { RawNode } from '@raftkit/core';\nimport { Simulation } from '@raftkit/core/testing';\nexport const used = [RawNode, Simulation];\n");
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    for (const resolution of ['node10', 'node16']) {
      const module = resolution === 'node10' ? 'commonjs' : 'node16';
      const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--moduleResolution', resolution, '--module', module, 'app.ts'], { cwd: dir, encoding: 'utf8' });
      expect(`${resolution}: ${r.stdout}${r.stderr}`.trim()).toBe(`${resolution}:`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
