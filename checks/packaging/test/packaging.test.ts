import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicPackages, referencedFiles, repoRoot, type PublicPackage } from './packages.js';
import { describeRun, run, runOk } from './run.js';

const checkDir = resolve(import.meta.dirname, '..');
const fixtures = join(checkDir, 'fixtures');
const attwBin = join(checkDir, 'node_modules/.bin/attw');
const packages = publicPackages();

/** Third-party packages the scratch app installs next to the tarballs (pins from TOOLCHAIN.md). */
const thirdParty = ['express@5.3.0', '@types/express@5.0.6', 'typescript@5.9.3', '@types/node@20.19.43'];

/**
 * attw rules ignored per package, each with the reason. Keep this empty unless a finding is
 * understood and harmless; never ignore a rule for every package.
 */
const attwIgnores: Record<string, readonly string[]> = {};

interface Packed {
  readonly tarball: string;
  readonly entries: readonly string[];
  readonly packageJson: string;
}

let work = '';
let app = '';
const packed = new Map<string, Packed>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'raftkit-pack-'));
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  for (const p of packages) {
    const before = new Set(readdirSync(tarballs));
    await runOk('pnpm', ['pack', '--pack-destination', tarballs], p.dir);
    const added = readdirSync(tarballs).filter((f) => !before.has(f));
    if (added.length !== 1) throw new Error(`pnpm pack in ${p.dir} made ${added.length} tarballs: ${added.join(', ')}`);
    const tarball = join(tarballs, added[0]!);
    const entries = (await runOk('tar', ['-tzf', tarball], work)).stdout.split('\n').filter(Boolean);
    const packageJson = (await runOk('tar', ['-xzOf', tarball, 'package/package.json'], work)).stdout;
    packed.set(p.name, { tarball, entries, packageJson });
  }

  // The scratch app lives outside the workspace, so nothing resolves through pnpm's links.
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'commonjs' }));
  const install = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  await runOk('npm', [...install, ...[...packed.values()].map((t) => t.tarball), ...thirdParty], app, 200_000);
  for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(app, f));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function tarballOf(p: PublicPackage): Packed {
  const t = packed.get(p.name);
  if (!t) throw new Error(`${p.name} was not packed`);
  return t;
}

it('finds the public packages', () => {
  const names = packages.map((p) => p.name);
  expect(names).toContain('@raftkit/core');
  expect(names).toContain('@raftkit/kv-http');
  expect(names.every((n) => n.startsWith('@raftkit/'))).toBe(true);
  expect(names.length).toBeGreaterThanOrEqual(10);
});

describe.each(packages)('$name tarball', (p) => {
  it('has no workspace: protocol left in its package.json', () => {
    expect(tarballOf(p).packageJson).not.toContain('workspace:');
  });

  it('holds package.json, README.md, LICENSE and every file its package.json names', () => {
    const { entries, packageJson } = tarballOf(p);
    const pkg = JSON.parse(packageJson) as Record<string, unknown>;
    const wanted = ['package.json', 'README.md', 'LICENSE', ...referencedFiles(pkg)].map((f) => `package/${f}`);
    expect(wanted.filter((f) => !entries.includes(f)), `missing from ${tarballOf(p).tarball}`).toEqual([]);
  });

  it('ships no sources or tests', () => {
    const bad = tarballOf(p).entries.filter((e) => /^package\/(src|test|tests|bench)\//.test(e) || /\.test\.[cm]?[jt]s$/.test(e));
    expect(bad).toEqual([]);
  });

  it('passes publint without errors or warnings', async () => {
    const buf = readFileSync(tarballOf(p).tarball);
    const tarball = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    const { messages, pkg } = await publint({ pack: { tarball }, level: 'warning' });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`)).toEqual([]);
  });

  it('passes attw (node16 profile, and node10 resolution too)', async () => {
    const ignores = attwIgnores[p.name] ?? [];
    const args = [tarballOf(p).tarball, '--format', 'json', '--profile', 'node16', ...(ignores.length ? ['--ignore-rules', ...ignores] : [])];
    const r = await run(attwBin, args, work);
    let report: { analysis?: { problems?: { kind: string; resolutionKind?: string }[] } };
    try {
      report = JSON.parse(r.stdout) as typeof report;
    } catch {
      throw new Error(`attw printed no JSON\n${describeRun(attwBin, args, work, r)}`);
    }
    // The JSON lists the problems of every resolution kind, node10 included (which the node16
    // profile leaves out of attw's exit code): a subpath export needs typesVersions for node10.
    const problems = (report.analysis?.problems ?? []).filter((x) => !ignores.includes(kebab(x.kind)));
    expect(problems, describeRun(attwBin, args, work, r)).toEqual([]);
    expect(r.code, describeRun(attwBin, args, work, r)).toBe(0);
  });
});

/** attw's JSON names problem kinds in PascalCase ("FalseCJS"); --ignore-rules takes kebab-case ("false-cjs"). */
function kebab(kind: string): string {
  return kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}

describe('installed with npm in a scratch app', () => {
  it.each(['esm.mjs', 'cjs.cjs'])('runs %s to the end', async (program) => {
    const r = await run(process.execPath, [program], app);
    const lines = r.stdout.trim().split('\n');
    expect(r.code, describeRun('node', [program], app, r)).toBe(0);
    expect(lines.at(-1), describeRun('node', [program], app, r)).toBe('ok');
  });

  it.each(['node16', 'bundler', 'node10'])('type-checks under tsconfig.%s.json (strict)', async (config) => {
    const tsc = join(app, 'node_modules/.bin/tsc');
    const args = ['-p', `tsconfig.${config}.json`];
    const r = await run(tsc, args, app);
    expect(r.code, describeRun('tsc', args, app, r)).toBe(0);
  });

  it('resolves @raftkit packages from the scratch app, not the workspace', async () => {
    const r = await runOk(process.execPath, ['-p', "require.resolve('@raftkit/core')"], app);
    expect(r.stdout.trim().startsWith(app)).toBe(true);
    expect(r.stdout.trim().startsWith(repoRoot)).toBe(false);
  });
});
