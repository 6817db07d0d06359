import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TestingBugs } from '@raftkit/core';
import type { SimProfile } from './profiles.js';
import type { SimOptions, SimOutcome } from './runSeed.js';

export interface SimCommand {
  nodes: number;
  seeds: number[];
  clients: number;
  faultMs: number;
  bug: keyof typeof plantable | null;
  profile: SimProfile | null;
  traceDir: string;
  jobs: number;
  verbose: boolean;
}

/** Bugs the harness can plant to prove it catches them (RaftConfig.testingBugs). */
export const plantable = {
  'commit-previous-term': { commitPreviousTerm: true },
  'double-vote': { doubleVote: true },
  'ack-before-fsync': { sendBeforePersist: true },
  // A leader counting its own entries toward the commit quorum before they are durable (issue 11).
  'count-self-early': { countSelfBeforeDurable: true },
  'stale-lease': { tickByCallbacks: true },
  // A second membership change while one is in flight (the membership profile finds it).
  'overlapping-conf-changes': { overlappingConfChanges: true },
} satisfies Record<string, TestingBugs>;

export interface SimSummary {
  outcomes: SimOutcome[];
  violations: SimOutcome[];
  wallMs: number;
}

/** Runs the seeds on `jobs` worker threads, with a progress line, and writes failure traces. */
export async function runSim(cmd: SimCommand, out: NodeJS.WriteStream = process.stderr): Promise<SimSummary> {
  const started = performance.now();
  const base: Omit<SimOptions, 'seed'> = {
    nodes: cmd.nodes,
    clients: cmd.clients,
    faultMs: cmd.faultMs,
    quietMs: 10_000,
    bugs: cmd.bug ? plantable[cmd.bug] : {},
    ...(cmd.profile ? { profile: cmd.profile } : {}),
  };
  const shares = Array.from({ length: Math.min(cmd.jobs, cmd.seeds.length) }, (_, j) => cmd.seeds.filter((_, i) => i % cmd.jobs === j));
  const outcomes: SimOutcome[] = [];
  const violations: SimOutcome[] = [];
  const progress = new Progress(cmd.seeds.length, out);
  await Promise.all(
    shares.map(
      (seeds) =>
        new Promise<void>((resolvePromise, reject) => {
          const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { seeds, base } });
          w.on('message', (o: SimOutcome) => {
            outcomes.push(o);
            if (!o.ok) {
              violations.push(o);
              reportViolation(o, cmd, out);
            } else if (cmd.verbose) out.write(`${oneLine(o)}\n`);
            progress.tick(violations.length);
          });
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`sim worker exited with ${code}`))));
        }),
    ),
  );
  progress.done();
  return { outcomes: outcomes.sort((a, b) => a.seed - b.seed), violations, wallMs: Math.round(performance.now() - started) };
}

/** The membership churn of all seeds in one line, or null if none had any. */
export function membershipSummary(outcomes: readonly SimOutcome[]): string | null {
  const ms = outcomes.flatMap((o) => (o.membership ? [o.membership] : []));
  if (ms.length === 0) return null;
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  const done: Record<string, number> = {};
  const refused: Record<string, number> = {};
  for (const m of ms) {
    add(done, m.done);
    add(refused, m.refused);
  }
  const sum = (xs: Record<string, number>) => Object.values(xs).reduce((a, b) => a + b, 0);
  const list = (xs: Record<string, number>) => Object.entries(xs).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  const total = (f: (m: (typeof ms)[number]) => number) => ms.reduce((n, m) => n + f(m), 0);
  return `membership: ${sum(done)} ops done (${list(done)}); ${sum(refused)} refused (${list(refused)}); ${total((m) => m.configs)} configurations committed (${total((m) => m.joint)} joint), ${total((m) => m.created)} nodes added, ${total((m) => m.retired)} retired`;
}

export function oneLine(o: SimOutcome): string {
  const verdict = o.ok ? 'ok' : `VIOLATION ${o.property}`;
  const m = o.membership;
  const churn = m ? `, ${Object.values(m.done).reduce((a, b) => a + b, 0)} membership ops done (${Object.values(m.refused).reduce((a, b) => a + b, 0)} refused), ${m.configs} configurations committed, ${m.created} nodes added, ${m.retired} retired` : '';
  return `seed ${o.seed}: ${verdict} — ${o.ops.ok} ops ok, ${o.ops.unknown} indeterminate, ${o.leaders} elections, ${o.committed} committed, ${o.crashes} crashes, ${o.faults} faults${churn}, ${o.virtualMs} virtual ms in ${o.wallMs} ms`;
}

function reportViolation(o: SimOutcome, cmd: SimCommand, out: NodeJS.WriteStream): void {
  mkdirSync(cmd.traceDir, { recursive: true });
  const file = resolve(join(cmd.traceDir, `sim-seed-${o.seed}-n${cmd.nodes}.json`));
  writeFileSync(file, JSON.stringify(o, null, 2));
  const replay = `raftkit-harness sim --seed ${o.seed} --nodes ${cmd.nodes} --clients ${cmd.clients} --fault-ms ${cmd.faultMs}${cmd.bug ? ` --plant-bug ${cmd.bug}` : ''}${cmd.profile ? ` --profile ${cmd.profile}` : ''}`;
  out.write(`\nseed ${o.seed}: VIOLATION of ${o.property}: ${o.detail}\n  trace: ${file}\n  replay: ${replay}\n`);
}

/** A one-line progress bar on a terminal; a line every 10% otherwise. */
class Progress {
  private n = 0;
  private lastPct = -1;
  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream,
  ) {}
  tick(violations: number): void {
    this.n++;
    const pct = Math.floor((this.n / this.total) * 100);
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round((this.n / this.total) * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.n}/${this.total} seeds, ${violations} violations`);
    } else if (pct >= this.lastPct + 10 || this.n === this.total) {
      this.lastPct = pct;
      this.out.write(`progress: ${this.n}/${this.total} seeds, ${violations} violations\n`);
    }
  }
  done(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}
