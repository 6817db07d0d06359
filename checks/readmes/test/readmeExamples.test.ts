/**
 * Every `ts runnable` / `js runnable` block of every README in the workspace is written to
 * .examples/, type-checked with tsc --strict (TS) and run with tsx; it must exit 0 by itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractExamples, type Example } from './extractExamples.js';

const checkDir = fileURLToPath(new URL('..', import.meta.url));
const root = join(checkDir, '..', '..');
const outDir = join(checkDir, '.examples');
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const tsx = join(checkDir, 'node_modules', '.bin', 'tsx');
const RUN_TIMEOUT_MS = 30_000;

interface Found extends Example {
  readonly readme: string; // relative to the root, e.g. packages/core/README.md
  readonly file: string; // absolute path under .examples/
}

function readmes(): string[] {
  const found = [join(root, 'README.md')];
  for (const dir of ['packages', 'apps']) {
    if (!existsSync(join(root, dir))) continue;
    for (const name of readdirSync(join(root, dir)).sort()) {
      const readme = join(root, dir, name, 'README.md');
      if (existsSync(readme)) found.push(readme);
    }
  }
  return found;
}

const problems: string[] = [];
const examples: Found[] = [];
for (const path of readmes()) {
  const readme = relative(root, path);
  const slug = readme === 'README.md' ? 'root' : readme.split('/')[1]!;
  const result = extractExamples(readFileSync(path, 'utf8'));
  for (const p of result.problems) problems.push(`${readme}:${p.line}: ${p.message}`);
  for (const e of result.examples) {
    examples.push({ ...e, readme, file: join(outDir, `${slug}-${e.n}.${e.lang === 'ts' ? 'mts' : 'mjs'}`) });
  }
}

/** tsc diagnostics, keyed by example file (absolute path). */
const diagnostics = new Map<string, string[]>();

beforeAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const e of examples) writeFileSync(e.file, `// ${e.readme}:${e.line} (${e.heading})\n${e.code}`);
  const ts = examples.filter((e) => e.lang === 'ts');
  if (ts.length === 0) return;
  writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', lib: ['ES2022'], module: 'node16', moduleResolution: 'node16',
      types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
      strict: true, noEmit: true, skipLibCheck: true, isolatedModules: true,
    },
    files: ts.map((e) => e.file),
  }, null, 2));
  const run = spawnSync(tsc, ['-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'], { cwd: outDir, encoding: 'utf8' });
  // A diagnostic starts with `file(line,col)`; indented lines continue the one above.
  let current = '';
  for (const line of `${run.stdout}${run.stderr}`.split('\n')) {
    if (!line.trim()) continue;
    const m = /^(.*?\.mts)\(\d+,\d+\)/.exec(line);
    if (m) current = join(outDir, m[1]!.replace(/^.*\.examples\//, ''));
    else if (!/^\s/.test(line)) current = '';
    diagnostics.set(current, [...(diagnostics.get(current) ?? []), line]);
  }
  // Output that names no example (a broken tsconfig, a crash) fails every TS example.
  if (run.status !== 0 && (diagnostics.get('')?.length ?? 0) > 0) {
    for (const e of ts) diagnostics.set(e.file, [...(diagnostics.get(e.file) ?? []), ...diagnostics.get('')!]);
  }
}, 120_000);

describe('README fences', () => {
  it('are all terminated and every runnable block is ts or js', () => {
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

/** A tsc diagnostic line, its file position mapped back to the README (line 1 of a file is a header). */
const inReadme = (e: Found, line: string): string =>
  line.replace(/^.*?\.mts\((\d+),(\d+)\)/, (_, l: string, c: string) => `${e.readme}:${e.line + Number(l) - 1}:${c}`);

describe.each([...new Set(examples.map((e) => e.readme))])('%s', (readme) => {
  for (const e of examples.filter((x) => x.readme === readme)) {
    it(`${readme}:${e.line} example ${e.n} "${e.heading}"`, () => {
      const errors = e.lang === 'ts' ? (diagnostics.get(e.file) ?? []) : [];
      if (errors.length > 0) {
        expect.fail(`the example at ${readme}:${e.line} does not type-check:\n${errors.map((l) => inReadme(e, l)).join('\n')}`);
      }
      const run = spawnSync(tsx, [e.file], {
        cwd: outDir, encoding: 'utf8', timeout: RUN_TIMEOUT_MS, env: { ...process.env, NODE_NO_WARNINGS: '1' },
      });
      if (run.status !== 0) {
        const why = run.error || run.signal
          ? `did not exit by itself within ${RUN_TIMEOUT_MS} ms (${run.error?.message ?? run.signal})`
          : `exited with code ${run.status}`;
        expect.fail(`the example at ${readme}:${e.line} ${why} (line L of ${relative(checkDir, e.file)} is README line ${e.line} + L - 1)\n--- stderr ---\n${run.stderr}--- stdout ---\n${run.stdout}`);
      }
    }, RUN_TIMEOUT_MS + 5_000);
  }
});
