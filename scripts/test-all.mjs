#!/usr/bin/env node
// Runs every package's tests through turbo, then totals vitest's JSON reports into the one
// line CI reads: `tests: N passed, N failed`. Exits non-zero if any test or task failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = ['packages', 'apps', 'checks']
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) => readdirSync(join(root, d)).map((p) => join(root, d, p)))
  .filter((p) => existsSync(join(p, 'package.json')));

const reportOf = (dir) => join(dir, '.vitest-results', 'results.json');
for (const dir of dirs) rmSync(join(dir, '.vitest-results'), { recursive: true, force: true });

const extra = process.argv.slice(2);
const turbo = (...args) =>
  spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--continue', ...args], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
  });
// Packages run one at a time (the real-process suites time elections), except one pair that
// shares the machine well: core's tests are CPU-bound on a virtual clock, log-rocksdb's wait
// on fsync. Running them side by side saves about 45 s of the CI run. Extra arguments (a
// --filter, say) run everything they select one at a time instead.
const paired = ['@raftkit/core', '@raftkit/log-rocksdb'];
const runs = extra.length > 0
  ? [turbo('--concurrency=1', ...extra)]
  : [turbo('--concurrency=2', ...paired.map((p) => `--filter=${p}`)), turbo('--concurrency=1', ...paired.map((p) => `--filter=!${p}`))];
const tasksPassed = runs.every((r) => r.status === 0);

let passed = 0;
let failed = 0;
const missing = [];
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (!pkg.scripts?.test) continue;
  if (!existsSync(reportOf(dir))) {
    missing.push(pkg.name);
    continue;
  }
  const r = JSON.parse(readFileSync(reportOf(dir), 'utf8'));
  passed += r.numPassedTests ?? 0;
  // A file that fails to load has no failed tests but must still count as a failure.
  failed += r.numFailedTests > 0 ? r.numFailedTests : r.numFailedTestSuites ?? 0;
  console.log(`  ${pkg.name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numFailedTestSuites} failed suites`);
}
if (missing.length) console.log(`  no test report from: ${missing.join(', ')}`);
const ok = tasksPassed && failed === 0 && missing.length === 0;
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
