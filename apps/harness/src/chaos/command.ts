import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChaosAborted, runChaos, type ChaosOptions, type ChaosResult } from './run.js';
import { FAULT_KINDS, type FaultKind } from './types.js';

type Flags = Map<string, string | true>;

export const chaosUsage = `usage: raftkit-harness chaos [options]

  --nodes 3|5          cluster size (default 3)
  --clients N          concurrent clients (default 4)
  --duration-s S       length of the fault phase (default 30)
  --seed N             seed of the fault schedule and the workload (default: random, printed)
  --faults LIST        fault kinds to draw from, comma-separated; each runs once first, in this
                       order, then at random (default: all, first round shuffled):
                       ${FAULT_KINDS.join(', ')}
  --keys N             keys the clients share (default 3)
  --op-timeout-ms MS   deadline of one client operation, retries included (default 3000)
  --read-consistency C linearizable (default) or stale: stale reads are not linearizable, so
                       a run with them should fail; it shows the harness can catch a violation
  --lease-read-consistency C
                       lease (default) or stale: the reads pause-leader-lease sends to the paused
                       leader; stale ones answer its pre-pause value, so a run with them should
                       fail: it shows the harness catches a stale lease read
  --follower-mode M    redirect (default) or forward: how followers pass writes to the leader
  --check-steps N      search budget of the linearizability check (default 50000000)
  --report FILE        HTML report (default harness-report.html)
  --keep-data          keep the servers' data and logs (the path is printed)
  --server PATH        the server CLI (default: apps/server/dist/cli.js of this checkout)
  --verbose            print each fault as it starts

Exit code: 0 if the history is linearizable and no acknowledged write was lost, 1 otherwise,
2 on a usage error.`;

class UsageError extends Error {}

const KNOWN = new Set(['nodes', 'clients', 'duration-s', 'seed', 'faults', 'keys', 'op-timeout-ms', 'check-steps', 'read-consistency', 'lease-read-consistency', 'follower-mode', 'report', 'keep-data', 'server', 'verbose']);

function int(flags: Flags, name: string, def: number, min: number, max: number): number {
  const v = flags.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (v === true || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}]`);
  return n;
}

function text(flags: Flags, name: string, def: string): string {
  const v = flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v ?? def;
}

function faultKinds(flags: Flags): { faults: FaultKind[]; orderedFaults: boolean } {
  const v = flags.get('faults');
  if (v === undefined) return { faults: [...FAULT_KINDS], orderedFaults: false };
  const kinds = v === true ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0 || bad.length > 0) throw new UsageError(`--faults takes a comma-separated list of ${FAULT_KINDS.join(', ')}`);
  return { faults: kinds as FaultKind[], orderedFaults: true };
}

/** One of `choices`, the first being the default. */
function oneOf<T extends string>(flags: Flags, name: string, choices: readonly [T, ...T[]]): T {
  const v = text(flags, name, choices[0]);
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be ${choices.join(' or ')}`);
  return v as T;
}

/** apps/server/dist/cli.js, found from this file whether it runs bundled (dist) or from src. */
export function defaultServerCli(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === '@raftkit/harness') {
      return join(dir, '..', 'server', 'dist', 'cli.js');
    }
  }
  return join(process.cwd(), 'apps', 'server', 'dist', 'cli.js');
}

export function parseChaosFlags(flags: Flags, log: (line: string) => void): ChaosOptions {
  const unknown = [...flags.keys()].filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new UsageError(`unknown option --${unknown[0]}`);
  const nodes = int(flags, 'nodes', 3, 3, 5);
  if (nodes !== 3 && nodes !== 5) throw new UsageError('--nodes must be 3 or 5');
  const serverCli = text(flags, 'server', defaultServerCli());
  if (!existsSync(serverCli)) throw new UsageError(`the server is not built: ${serverCli} is missing (run pnpm --filter @raftkit/server... build)`);
  return {
    nodes,
    clients: int(flags, 'clients', 4, 1, 64),
    durationMs: int(flags, 'duration-s', 30, 2, 24 * 3600) * 1000,
    seed: int(flags, 'seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31),
    ...faultKinds(flags),
    keys: int(flags, 'keys', 3, 1, 100),
    opTimeoutMs: int(flags, 'op-timeout-ms', 3000, 100, 600_000),
    checkSteps: int(flags, 'check-steps', 50_000_000, 1000, 1e12),
    readConsistency: oneOf(flags, 'read-consistency', ['linearizable', 'stale'] as const),
    leaseConsistency: oneOf(flags, 'lease-read-consistency', ['lease', 'stale'] as const),
    followerMode: oneOf(flags, 'follower-mode', ['redirect', 'forward'] as const),
    reportPath: text(flags, 'report', 'harness-report.html'),
    keepData: flags.has('keep-data'),
    serverCli,
    log: flags.has('verbose') ? log : () => undefined,
  };
}

/** `raftkit-harness chaos`: the exit code is the verdict (see {@link chaosUsage}). */
export async function chaos(flags: Map<string, string | true>): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (flags.has('help')) {
    out(chaosUsage);
    return 0;
  }
  let options: ChaosOptions;
  try {
    options = parseChaosFlags(flags, out);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`raftkit-harness chaos: ${err.message}\n\n${chaosUsage}\n`);
    return 2;
  }
  const o = options;
  out(`raftkit-harness chaos: seed ${o.seed}, ${o.nodes} nodes, ${o.clients} clients, ${o.durationMs / 1000} s of faults (${o.faults.join(', ')})`);
  let result: ChaosResult;
  try {
    result = await runChaos(o);
  } catch (err) {
    if (!(err instanceof ChaosAborted)) throw err;
    process.stderr.write(`raftkit-harness chaos: ${err.message}\n`);
    return 1;
  }
  out(result.summary);
  if (o.keepData) out(`data and server logs kept in ${result.dataDir}`);
  return result.passed ? 0 : 1;
}
