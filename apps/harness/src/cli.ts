#!/usr/bin/env node
import { availableParallelism } from 'node:os';
import { membershipSummary, oneLine, plantable, runSim, type SimCommand } from './sim/command.js';
import { simProfileNames as profileNames, type SimProfile } from './sim/profiles.js';

const usage = `usage:
  raftkit-harness sim   [--nodes 3|5] [--seeds N | --seed N] [--first-seed S] [--clients N] [--fault-ms MS]
                        [--plant-bug ${Object.keys(plantable).join('|')}] [--trace-dir DIR] [--jobs N] [--verbose]
                        [--profile ${profileNames.join('|')}] [--expect-violation]
  raftkit-harness chaos [--nodes 3|5] [--duration-s S] [--clients N] [--report FILE] [--seed N]

sim    runs seeded in-process clusters (real RaftNodes, KV, virtual time) under faults; checks
       Raft's safety properties after every step, linearizability and liveness at the end.
chaos  runs real server processes on 127.0.0.1 behind fault-injecting TCP proxies, with kills,
       pauses and partitions, then checks the client history and writes an HTML report.`;

function parseArgs(argv: string[]): { command: string; flags: Map<string, string | true> } {
  const [command = '', ...rest] = argv;
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) fail(`unexpected argument "${a}"`);
    const next = rest[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(a.slice(2), next);
      i++;
    } else flags.set(a.slice(2), true);
  }
  return { command, flags };
}

function fail(msg: string): never {
  process.stderr.write(`raftkit-harness: ${msg}\n\n${usage}\n`);
  process.exit(2);
}

function intFlag(flags: Map<string, string | true>, name: string, def: number, min: number, max: number): number {
  const v = flags.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (v === true || !Number.isSafeInteger(n) || n < min || n > max) fail(`--${name} must be an integer in [${min}, ${max}]`);
  return n;
}

async function sim(flags: Map<string, string | true>): Promise<number> {
  const nodes = intFlag(flags, 'nodes', 3, 1, 9);
  const single = flags.has('seed') ? intFlag(flags, 'seed', 1, 0, 2 ** 31) : null;
  const first = intFlag(flags, 'first-seed', 1, 0, 2 ** 31);
  const count = intFlag(flags, 'seeds', 100, 1, 1_000_000);
  const bug = flags.get('plant-bug');
  if (bug !== undefined && (bug === true || !(bug in plantable))) fail(`--plant-bug must be one of ${Object.keys(plantable).join(', ')}`);
  const profile = flags.get('profile');
  if (profile !== undefined && (profile === true || !profileNames.includes(profile as SimProfile))) fail(`--profile must be one of ${profileNames.join(', ')}`);
  const cmd: SimCommand = {
    nodes,
    seeds: single !== null ? [single] : Array.from({ length: count }, (_, i) => first + i),
    clients: intFlag(flags, 'clients', 4, 1, 64),
    faultMs: intFlag(flags, 'fault-ms', 3000, 100, 600_000),
    bug: (bug as SimCommand['bug']) ?? null,
    profile: (profile as SimProfile | undefined) ?? null,
    traceDir: typeof flags.get('trace-dir') === 'string' ? (flags.get('trace-dir') as string) : 'harness-traces',
    jobs: intFlag(flags, 'jobs', Math.max(1, Math.min(availableParallelism(), 8)), 1, 64),
    verbose: flags.has('verbose') || single !== null,
  };
  const s = cmd.seeds;
  process.stdout.write(`raftkit-harness sim: ${nodes} nodes, seeds ${s[0]}..${s[s.length - 1]}, ${cmd.clients} clients, ${cmd.faultMs} virtual ms of faults, bug: ${cmd.bug ?? 'none'}, profile: ${cmd.profile ?? 'drawn per seed'}, ${cmd.jobs} jobs\n`);
  const r = await runSim(cmd);
  const ops = r.outcomes.reduce((n, o) => n + o.ops.ok, 0);
  const elections = r.outcomes.reduce((n, o) => n + o.leaders, 0);
  const maxElections = Math.max(0, ...r.outcomes.map((o) => o.leaders));
  const meanElections = (elections / Math.max(1, r.outcomes.length)).toFixed(1);
  const crashes = r.outcomes.reduce((n, o) => n + o.crashes, 0);
  const lost = r.outcomes.reduce((n, o) => n + o.lostWrites, 0);
  const stableMs = r.outcomes.reduce((n, o) => n + o.stableMs, 0);
  const chunks = r.outcomes.reduce((n, o) => n + (o.snapshotChunks?.sent ?? 0), 0);
  const chunksLost = r.outcomes.reduce((n, o) => n + (o.snapshotChunks?.dropped ?? 0), 0);
  const streamed = r.outcomes.filter((o) => (o.snapshotChunks?.sent ?? 0) > 0).length;
  if (single !== null && r.outcomes[0]) process.stdout.write(`${oneLine(r.outcomes[0])}\n`);
  const verdict = r.violations.length === 0 ? 'all safe' : `${r.violations.length} VIOLATIONS (seeds ${r.violations.map((v) => v.seed).join(', ')})`;
  process.stdout.write(`sim: ${r.outcomes.length} seeds, ${verdict}; ${ops} client ops ok, ${elections} elections, ${crashes} crashes, ${lost} unsynced writes lost, ${stableMs} virtual ms checked for stability, ${chunks} snapshot chunks sent (${chunksLost} lost) in ${streamed} seeds; elections: mean ${meanElections}, max ${maxElections} per seed; ${(r.wallMs / 1000).toFixed(1)} s\n`);
  const churn = membershipSummary(r.outcomes);
  if (churn) process.stdout.write(`${churn}\n`);
  if (flags.has('expect-violation')) return r.violations.length > 0 ? 0 : 1;
  return r.violations.length === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const { command, flags } = parseArgs(process.argv.slice(2));
  if (command === 'sim') return sim(flags);
  if (command === 'chaos') {
    const { chaos } = await import('./chaos/command.js');
    return chaos(flags);
  }
  if (command === 'help' || command === '--help' || command === '') {
    process.stdout.write(`${usage}\n`);
    return command === '' ? 2 : 0;
  }
  fail(`unknown command "${command}"`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`raftkit-harness: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
