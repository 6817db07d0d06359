// The membership faults of issue 10 against a real cluster under load: a leadership transfer,
// a dead machine replaced (kill -9, data deleted, removed, a new id joins with --join), and the
// cluster grown by two and shrunk by two (the leader may be one). The run must pass (linearizable, no acknowledged write lost, no server exit of its
// own, every change completed) and the report must show the membership changes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatResult } from '@raftkit/lincheck';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { defaultServerCli } from '../src/chaos/command.js';
import { runChaos, type ChaosResult } from '../src/chaos/run.js';

const serverCli = defaultServerCli();
const reportDir = mkdtempSync(join(tmpdir(), 'raftkit-chaos-membership-'));
let run: ChaosResult;

beforeAll(async () => {
  if (!existsSync(serverCli)) throw new Error(`${serverCli} is missing: build the server first`);
  run = await runChaos({
    nodes: 3, clients: 3, durationMs: 11_000, seed: 1010, keys: 3,
    // rolling-restart is left to the server's membershipScenarios test (same SIGTERM path, ~10 s).
    faults: ['transfer-leader', 'replace-node', 'grow-shrink'], orderedFaults: true,
    reportPath: join(reportDir, 'report.html'), keepData: false, serverCli,
    opTimeoutMs: 3000, checkSteps: 50_000_000,
    readConsistency: 'linearizable', leaseConsistency: 'lease', followerMode: 'redirect',
    log: () => undefined,
  });
}, 120_000);

afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

test('every membership fault ran to completion, in order', () => {
  const labels = run.report.faults.map((f) => f.label);
  expect(labels[0]).toMatch(/^transfer-leader n[1-3]→(n[1-3]|any): n[1-3] leads$/);
  expect(labels[1]).toMatch(/^replace-node (n[1-3]) \(kill -9, data deleted\) by n4 \(--join\): n4 a voter after [\d.]+ s, voters \{n\d,n\d,n\d\}$/);
  expect(labels[2]).toMatch(/^grow-shrink: \+\{n5,n6\} then 2 removed: grew by \{n5,n6\}, removed \{n\d,n\d\}$/);
  expect(run.report.nodes).toEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
});

test('the run passes: linearizable, no acknowledged write lost, no problem', () => {
  const j = run.judgement;
  expect(j.problems).toEqual([]);
  expect(j.check.result, formatResult(j.check)).toBe('ok');
  expect(j.lost).toEqual([]);
  expect(j.counts.ok).toBeGreaterThan(100);
  expect(run.passed, run.summary).toBe(true);
});

test('the HTML report shows the membership changes on the timeline and in a table', () => {
  const html = readFileSync(run.reportPath, 'utf8');
  const events = run.report.membership ?? [];
  expect(events.map((e) => e.label)).toContain('n4 joined as a voter');
  expect(events.filter((e) => e.label.startsWith('removed ')).length).toBe(3);
  expect(html).toContain('<h2>Membership changes</h2>');
  expect(html).toContain('>members</text>');
  for (const e of events) expect(html).toContain(`>${e.label}</text>`);
  expect(html).toContain('3 nodes (6 over the run)');
});
