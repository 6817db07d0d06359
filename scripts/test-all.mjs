#!/usr/bin/env node
// Runs every package's tests through turbo, then totals vitest's JSON reports into the one
// line CI reads: `tests: N passed, N failed`. Exits non-zero if any test or task failed.
import { spawn } from 'node:child_process';
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
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };
const turboArgs = (args) => ['exec', 'turbo', 'run', 'test', '--continue', '--concurrency=1', ...args];
/** One turbo run; resolves with whether every task in it passed. */
const turbo = (...args) =>
  new Promise((resolve) => {
    const child = spawn('pnpm', turboArgs(args), { cwd: root, stdio: 'inherit', env });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
// Packages run one at a time (the real-process suites time elections), except two lanes that
// share the machine well, run side by side first: log-rocksdb's tests wait on fsync, and core's,
// kv's and lincheck's are CPU-bound on seeds and a virtual clock. `--only`: turbo run with the
// builds `pnpm test` has just made, so neither lane restores build outputs the other is reading.
// This saves about a minute of the CI run. Extra arguments (a --filter, say) run everything
// they select one at a time instead.
const lanes = [['@raftkit/log-rocksdb'], ['@raftkit/core', '@raftkit/kv', '@raftkit/lincheck']];
const filters = (names, not = '') => names.map((p) => `--filter=${not}${p}`);
let tasksPassed;
if (extra.length > 0) {
  tasksPassed = await turbo(...extra);
} else {
  const side = await Promise.all(lanes.map((lane) => turbo('--only', ...filters(lane))));
  const rest = await turbo(...filters(lanes.flat(), '!'));
  tasksPassed = side.every(Boolean) && rest;
}

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
