// Self-test of the pause-leader-lease fault: with the reads it sends to the paused leader made
// `stale` on purpose, the resumed old leader answers its pre-pause value, which is what a
// leader serving from an expired tick-counted lease did (issue 9 item 1). The run must fail,
// on the probe's own read: so lease reads are in the history and checked.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatResult } from '@raftkit/lincheck';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { defaultServerCli } from '../src/chaos/command.js';
import { LEASE_CLIENT } from '../src/chaos/leaseProbe.js';
import { runChaos, type ChaosResult } from '../src/chaos/run.js';

const serverCli = defaultServerCli();
const reportDir = mkdtempSync(join(tmpdir(), 'raftkit-chaos-lease-'));
let run: ChaosResult;

beforeAll(async () => {
  if (!existsSync(serverCli)) throw new Error(`${serverCli} is missing: build the server first`);
  run = await runChaos({
    nodes: 3, clients: 2, durationMs: 7000, seed: 99, keys: 3,
    faults: ['pause-leader-lease'], orderedFaults: true,
    reportPath: join(reportDir, 'report.html'), keepData: false, serverCli,
    opTimeoutMs: 3000, checkSteps: 50_000_000,
    readConsistency: 'linearizable', leaseConsistency: 'stale', followerMode: 'redirect',
    log: () => undefined,
  });
}, 100_000);

afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

test('a paused leader answering a read from before its pause fails the run, on the probe read', () => {
  const traps = run.report.faults.filter((f) => / answered /.test(f.label));
  expect(traps.length, run.report.faults.map((f) => f.label).join('\n')).toBeGreaterThan(0);
  expect(run.passed).toBe(false);
  expect(run.judgement.check.result, formatResult(run.judgement.check)).toBe('illegal');
  const witness = run.judgement.check.violation?.witness?.essential ?? run.judgement.check.violation?.operations ?? [];
  expect(witness.some((op) => op.clientId === LEASE_CLIENT && op.input.op === 'get')).toBe(true);
  // Everything else held: the failure is the stale read alone.
  expect(run.judgement.problems).toEqual([]);
});
