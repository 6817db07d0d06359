import type { ChaosCluster, Link } from './cluster.js';
import type { CutMode } from './proxy.js';
import { between, pick, seededRandom, shuffled, type Random } from './random.js';
import type { FaultKind, FaultWindow } from './types.js';

/** One fault of the seeded schedule. Targets are resolved when it starts. */
export interface PlannedFault {
  readonly kind: FaultKind;
  /** Start and length, in ms from the start of the fault phase. */
  readonly at: number;
  readonly duration: number;
  readonly mode: CutMode;
  /** Seeds the choice of targets, so a seed replays the same choices. */
  readonly targetSeed: number;
}

export interface PlanOptions {
  readonly kinds: readonly FaultKind[];
  /** Run the first round of `kinds` in the given order instead of a seeded shuffle. */
  readonly ordered: boolean;
  readonly durationMs: number;
}

/** Quiet time before the first fault, so the clients have a baseline. */
const FIRST_FAULT_MS = 1000;
const SHORTEST_FAULT_MS = 800;
/** How long a leader-targeted fault waits for a leader before picking any node. */
const LEADER_WAIT_MS = 3000;

/**
 * The schedule: one fault at a time (so each window has one clear label), each kind once
 * in the first round, then kinds at random. Faults last 1.5-3.5 s with 0.5-1.5 s between.
 */
export function planFaults(rand: Random, options: PlanOptions): PlannedFault[] {
  const firstRound = options.ordered ? [...options.kinds] : shuffled(rand, options.kinds);
  const plan: PlannedFault[] = [];
  for (let at = FIRST_FAULT_MS; ; ) {
    const kind = firstRound.shift() ?? pick(rand, options.kinds);
    const duration = Math.min(between(rand, 1500, 3500), options.durationMs - at);
    if (duration < SHORTEST_FAULT_MS) return plan;
    const mode: CutMode = rand() < 0.5 ? 'refuse' : 'blackhole';
    plan.push({ kind, at, duration, mode, targetSeed: Math.floor(rand() * 2 ** 32) });
    at += duration + between(rand, 500, 1500);
  }
}

interface Active {
  readonly label: string;
  heal(): void;
}

/**
 * Carries out a plan against a real cluster, recording each fault's window. Leader-targeted
 * faults ask the nodes who leads when the fault starts.
 */
export class Nemesis {
  readonly faults: FaultWindow[] = [];
  private stopped = false;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Runs the plan, `phaseStart` being the run time its `at`s count from. A fault lasts its
   * planned duration from when it really started (waiting for a leader can delay it), but
   * never past `phaseEnd`.
   */
  async run(plan: readonly PlannedFault[], phaseStart: number, phaseEnd: number): Promise<void> {
    for (const fault of plan) {
      if (!(await this.sleepUntil(phaseStart + fault.at))) return;
      const active = await this.inject(fault);
      const start = this.now();
      this.log(`${(start / 1000).toFixed(1)}s ${active.label}`);
      await this.sleepUntil(Math.min(start + fault.duration, phaseEnd));
      active.heal();
      this.faults.push({ kind: fault.kind, label: active.label, start, end: this.now() });
    }
  }

  /** Makes `run` return at its next wait (its current fault is still healed). */
  stop(): void {
    this.stopped = true;
  }

  private async sleepUntil(t: number): Promise<boolean> {
    while (!this.stopped && this.now() < t) await new Promise((r) => setTimeout(r, Math.min(100, t - this.now())));
    return !this.stopped;
  }

  private async inject(f: PlannedFault): Promise<Active> {
    const ids = this.cluster.ids;
    const rand = seededRandom(f.targetSeed);
    switch (f.kind) {
      case 'kill':
        return this.kill(pick(rand, ids), '');
      case 'kill-leader': {
        const { id, tag } = await this.leaderOr(rand);
        return this.kill(id, tag);
      }
      case 'kill-all':
        return this.killAll();
      case 'pause':
        return this.pause(pick(rand, ids), '');
      case 'pause-leader': {
        const { id, tag } = await this.leaderOr(rand);
        return this.pause(id, tag);
      }
      case 'partition':
        return this.partition(minoritySplit(rand, ids), f.mode, '');
      case 'isolate-leader': {
        const { id, tag } = await this.leaderOr(rand);
        return this.partition([[id], ids.filter((x) => x !== id)], f.mode, tag === LEADER ? ' (leader isolated)' : tag);
      }
      case 'drop':
        return this.drop(pick(rand, ids), rand() < 0.5 ? 'out' : 'in', f.mode);
    }
  }

  /**
   * The current leader, waiting a little for one mid-election (e.g. while the cluster
   * restarts after a kill), else a random node.
   */
  private async leaderOr(rand: Random): Promise<{ id: string; tag: string }> {
    const leader = (await this.cluster.findLeader()) ?? (await this.cluster.waitForLeader(LEADER_WAIT_MS));
    if (leader) return { id: leader.id, tag: LEADER };
    return { id: pick(rand, this.cluster.ids), tag: ' (no leader seen)' };
  }

  private async kill(id: string, tag: string): Promise<Active> {
    await this.cluster.kill(id);
    return { label: `kill ${id}${tag}`, heal: () => this.cluster.restart(id) };
  }

  /** Every node at once: only what each fsynced survives, so acknowledged writes must. */
  private async killAll(): Promise<Active> {
    const ids = this.cluster.ids;
    await Promise.all(ids.map((id) => this.cluster.kill(id)));
    return { label: `kill all ${set(ids)}`, heal: () => ids.forEach((id) => this.cluster.restart(id)) };
  }

  private pause(id: string, tag: string): Active {
    this.cluster.pause(id);
    return { label: `pause ${id}${tag}`, heal: () => this.cluster.resume(id) };
  }

  private partition([a, b]: [string[], string[]], mode: CutMode, tag: string): Active {
    const links: Link[] = [...crossLinks(a, b), ...crossLinks(b, a)];
    this.cluster.cutLinks(links, mode);
    return { label: `partition ${set(a)} | ${set(b)}${tag}${modeTag(mode)}`, heal: () => this.cluster.healLinks(links) };
  }

  /** One-way: `id` cannot send (out) or cannot receive (in); the other direction works. */
  private drop(id: string, direction: 'out' | 'in', mode: CutMode): Active {
    const others = this.cluster.ids.filter((x) => x !== id);
    const links = direction === 'out' ? crossLinks([id], others) : crossLinks(others, [id]);
    this.cluster.cutLinks(links, mode);
    const label = direction === 'out' ? `drop ${id}→${set(others)}` : `drop ${set(others)}→${id}`;
    return { label: `${label}${modeTag(mode)}`, heal: () => this.cluster.healLinks(links) };
  }
}

/** A random minority (1 .. (n-1)/2 nodes) against the rest. */
function minoritySplit(rand: Random, ids: readonly string[]): [string[], string[]] {
  const order = shuffled(rand, ids);
  const size = between(rand, 1, Math.floor((ids.length - 1) / 2));
  return [order.slice(0, size).sort(), order.slice(size).sort()];
}

const LEADER = ' (leader)';

function crossLinks(from: readonly string[], to: readonly string[]): Link[] {
  return from.flatMap((a) => to.map((b): Link => [a, b]));
}

const set = (ids: readonly string[]): string => `{${[...ids].sort().join(',')}}`;

const modeTag = (mode: CutMode): string => (mode === 'blackhole' ? ' (blackhole)' : '');
