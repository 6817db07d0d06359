// The storage and resource faults of issue 9 against a real cluster: a stopped node's WAL
// damaged (it must refuse to start with a coded error, then is wiped and rejoins empty), and a
// node restarted under `ulimit -n 256` with 400 connections held against it (it must shed them
// and stay up). The run must pass: no crash, linearizable, no acknowledged write lost.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatResult } from '@raftkit/lincheck';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { defaultServerCli } from '../src/chaos/command.js';
import { runChaos, type ChaosResult } from '../src/chaos/run.js';

const serverCli = defaultServerCli();
const reportDir = mkdtempSync(join(tmpdir(), 'raftkit-chaos-storage-'));
let run: ChaosResult;

beforeAll(async () => {
  if (!existsSync(serverCli)) throw new Error(`${serverCli} is missing: build the server first`);
  run = await runChaos({
    nodes: 3, clients: 3, durationMs: 10_000, seed: 4242, keys: 3,
    faults: ['wal-damage', 'fd-limit'], orderedFaults: true,
    reportPath: join(reportDir, 'report.html'), keepData: false, serverCli,
    opTimeoutMs: 3000, checkSteps: 50_000_000,
    readConsistency: 'linearizable', leaseConsistency: 'lease', followerMode: 'redirect',
    log: () => undefined,
  });
}, 100_000);

afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

test('a node whose WAL was damaged refuses to start with a coded error, and rejoins once wiped', () => {
  const [damage] = run.report.faults.map((f) => f.label);
  expect(damage).toMatch(/^wal-damage n[1-3]: (flip|truncate|delete) .*: refused \(exit 1, RAFT_STORAGE_(LOST|CORRUPT)\); wiped and restarted empty; /);
});

test('a node under a low fd limit sheds a connection flood and stays up; the run passes', () => {
  const flood = run.report.faults[1]?.label;
  expect(flood).toMatch(/^fd-limit n[1-3]: ulimit -n 256, 400 connections: \d+ answered, \d+ refused, \d+ closed$/);
  const j = run.judgement;
  expect(j.problems).toEqual([]);
  expect(j.check.result, formatResult(j.check)).toBe('ok');
  expect(j.lost).toEqual([]);
  expect(run.passed, run.summary).toBe(true);
});
