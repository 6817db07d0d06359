import { join } from 'node:path';
import { sleep, type ChaosCluster, type Link } from './cluster.js';
import { ConnectionFlood } from './connectionFlood.js';
import type { LeaseProbe } from './leaseProbe.js';
import { MembershipFaults, type ActiveFault, type MembershipEvent } from './membershipFaults.js';
import type { CutMode } from './nodeProxy.js';
import { between, pick, seededRandom, shuffled, type Random } from './random.js';
import type { FaultKind, FaultWindow } from './types.js';
import { WAL_DAMAGE_KINDS, damageNewestWal, type WalDamage } from './walDamage.js';

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

/** Ends the fault with `heal`; it may take a while (a lease read to answer), may add to the label. */
type Active = ActiveFault;

/** What the faults beyond processes and links need. */
export interface NemesisExtras {
  /** For `pause-leader-lease`; null leaves its pause without the lease read. */
  readonly probe: LeaseProbe | null;
  readonly keys: readonly string[];
}

/** How long a node restarted on a damaged WAL has to refuse: to open, or once its leader talks to it. */
const DAMAGE_WATCH_MS = 5000;
/** How long a wiped node has to rejoin (start, follow a leader) or be refused. */
const REJOIN_WATCH_MS = 4000;
/** `fd-limit`: the node's `ulimit -n`, and the connections held open against it. */
export const FD_LIMIT = 256;
const FLOOD_CONNECTIONS = 400;

/**
 * Carries out a plan against a real cluster, recording each fault's window. Leader-targeted
 * faults ask the nodes who leads when the fault starts.
 */
export class Nemesis {
  readonly faults: FaultWindow[] = [];
  /** Findings of the faults themselves (a node serving on a damaged WAL); they fail the run. */
  readonly problems: string[] = [];
  private stopped = false;
  private readonly membership: MembershipFaults;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
    private readonly extras: NemesisExtras = { probe: null, keys: [] },
  ) {
    this.membership = new MembershipFaults(cluster, now, this.problems);
  }

  /** The membership changes the faults made, in order. */
  get membershipEvents(): readonly MembershipEvent[] {
    return this.membership.events;
  }

  /**
   * Runs the plan, `phaseStart` being the run time its `at`s count from. A fault lasts its
   * planned duration from when it really started (waiting for a leader can delay it), but
   * never past `phaseEnd`.
   */
  async run(plan: readonly PlannedFault[], phaseStart: number, phaseEnd: number): Promise<void> {
    for (const fault of plan) {
      if (!(await this.sleepUntil(phaseStart + fault.at))) return;
      // A slow heal (a lease read to answer, a wiped node to rejoin) can push a fault past the phase.
      if (this.now() >= phaseEnd - SHORTEST_FAULT_MS) return;
      const active = await this.inject(fault);
      const start = this.now();
      this.log(`${(start / 1000).toFixed(1)}s ${active.label}`);
      await this.sleepUntil(Math.min(start + fault.duration, phaseEnd));
      const outcome = await active.heal();
      if (outcome) this.log(`${(this.now() / 1000).toFixed(1)}s ${active.label}: ${outcome}`);
      this.faults.push({ kind: fault.kind, label: outcome ? `${active.label}: ${outcome}` : active.label, start, end: this.now() });
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
      case 'pause-leader-lease': {
        const { id, tag } = await this.leaderOr(rand);
        return this.leaseTrap(id, tag, pick(rand, this.extras.keys), f.duration);
      }
      case 'wal-damage': {
        // One member out for good is all a 3-node cluster can spare.
        const out = ids.filter((id) => this.cluster.retired.has(id));
        if (out.length > 0) return { label: `wal-damage: skipped (${set(out)} retired)`, heal: () => undefined };
        return this.walDamage(pick(rand, ids), pick(rand, WAL_DAMAGE_KINDS), rand);
      }
      case 'fd-limit':
        return this.fdLimit(pick(rand, ids.filter((id) => !this.cluster.retired.has(id))));
      case 'transfer-leader': {
        const { id, tag } = await this.leaderOr(rand);
        if (tag !== LEADER) return { label: `transfer-leader: skipped${tag}`, heal: () => undefined };
        return this.membership.transferLeader(rand, id);
      }
      case 'rolling-restart':
        return this.membership.rollingRestart();
      case 'replace-node':
        return this.membership.replaceNode(rand, (await this.cluster.findLeader())?.id ?? null);
      case 'grow-shrink':
        return this.membership.growShrink(rand);
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

  /**
   * SIGSTOP the leader; once the others have a new leader, write `key` through it, send a
   * lease read of `key` to the paused node (see {@link LeaseProbe}) and SIGCONT it right
   * after, as in issue 9 item 1 (its lease, if counted in ticks, still looks valid then). The
   * read's answer, which the history check judges, is awaited at the end of the window.
   */
  private leaseTrap(id: string, tag: string, key: string, durationMs: number): Active {
    this.cluster.pause(id);
    const trap = this.setTrap(id, key, this.now() + durationMs);
    return {
      label: `pause ${id}${tag}, lease read of ${key} sent to it`,
      heal: async () => {
        const set = await trap;
        this.cluster.resume(id);
        return typeof set === 'string' ? set : await set.read;
      },
    };
  }

  private async setTrap(paused: string, key: string, end: number): Promise<string | { read: Promise<string> }> {
    const probe = this.extras.probe;
    if (!probe) return 'no lease probe';
    const leader = await this.cluster.waitForLeader(Math.max(0, end - this.now() - 300));
    if (!leader || leader.id === paused) return 'no new leader during the pause, no lease read sent';
    const set = await probe.set(key, leader.id, paused, end - this.now() + 3000);
    if ('skipped' in set) return set.skipped;
    await sleep(200); // the request reaches the paused node's socket before it runs again
    this.cluster.resume(paused);
    return set;
  }

  /**
   * SIGKILL a node, damage its newest WAL, restart it. It must refuse to start with a coded
   * storage error (on open, or as soon as its leader tells it of a commit beyond its log);
   * then, membership changes not existing yet, its data is wiped and it restarts empty, to
   * catch up from the leader. A node that serves on a damaged WAL fails the run.
   */
  private async walDamage(id: string, kind: WalDamage['kind'], rand: Random): Promise<Active> {
    await this.cluster.kill(id);
    let damage: WalDamage | null = null;
    try {
      damage = damageNewestWal(join(this.cluster.dataDirOf(id), 'raft'), kind, rand);
    } catch {
      damage = null; // no database yet (a node that was just wiped)
    }
    if (!damage) {
      this.cluster.restart(id);
      return { label: `wal-damage ${id}: no WAL with records to damage`, heal: () => undefined };
    }
    const logFrom = this.cluster.logSize(id);
    const restartedAt = this.now();
    this.cluster.restart(id, { mayRefuse: true });
    return { label: `wal-damage ${id}: ${damage.detail}`, heal: () => this.judgeDamaged(id, damage, logFrom, restartedAt) };
  }

  private async judgeDamaged(id: string, damage: WalDamage, logFrom: number, restartedAt: number): Promise<string> {
    while (this.now() < restartedAt + DAMAGE_WATCH_MS && !this.cluster.refusal(id)) await sleep(100);
    const refusal = this.cluster.refusal(id);
    this.cluster.settled(id);
    const code = /RAFT_STORAGE_(LOST|CORRUPT)/.exec(this.cluster.logSince(id, logFrom))?.[0];
    if (refusal && code) {
      this.cluster.wipe(id);
      return `refused (exit ${refusal.code}, ${code}); wiped and restarted empty${await this.rejoin(id)}`;
    }
    if (refusal) {
      const why = lastLine(this.cluster.logSince(id, logFrom));
      this.problems.push(`${id} exited (code ${refusal.code}, signal ${refusal.signal}) after ${damage.detail} without a coded storage error: ${why}`);
      this.cluster.restart(id);
      return `exited (code ${refusal.code}) without a coded storage error`;
    }
    this.problems.push(`${id} started on a damaged WAL (${damage.detail}) and kept serving for ${DAMAGE_WATCH_MS / 1000} s`);
    return 'NOT REFUSED: it started and served';
  }

  /**
   * Restarts a wiped node under a new leader. The leader it had still counts the entries the
   * node acknowledged before the damage (its match index) and would tell the empty node of a
   * commit beyond its log, which the node rightly refuses (RAFT_STORAGE_LOST: a voter cannot
   * come back empty without a membership change). So that leader is paused while the node
   * starts: the other node wins the election (its log is longer) with no memory of the wiped
   * one, and brings it up to date. If the node is refused all the same, it is retired.
   */
  private async rejoin(id: string): Promise<string> {
    const old = await this.cluster.findLeader();
    const paused = old && old.id !== id ? old.id : null;
    if (paused) this.cluster.pause(paused);
    const logFrom = this.cluster.logSize(id);
    const from = this.now();
    this.cluster.restart(id, { mayRefuse: true });
    try {
      while (this.now() < from + REJOIN_WATCH_MS && !this.cluster.refusal(id)) {
        const leader = await this.cluster.findLeader();
        if (leader && leader.id !== paused && (await this.cluster.status(id))?.leader === leader.id) break;
        await sleep(100);
      }
    } finally {
      if (paused) this.cluster.resume(paused);
    }
    while (this.now() < from + REJOIN_WATCH_MS && !this.cluster.refusal(id)) await sleep(100);
    const refusal = this.cluster.refusal(id);
    this.cluster.settled(id);
    const under = paused ? ` (${paused}, its leader, paused meanwhile)` : '';
    if (!refusal) return `; rejoined${under}`;
    const log = this.cluster.logSince(id, logFrom);
    if (!/RAFT_STORAGE_LOST/.test(log)) {
      this.problems.push(`${id} exited (code ${refusal.code}, signal ${refusal.signal}) after restarting empty: ${lastLine(log)}`);
      return `; then exited (code ${refusal.code})`;
    }
    this.cluster.retire(id);
    return `; refused to rejoin${under} (RAFT_STORAGE_LOST): retired`;
  }

  /** Restart a node under `ulimit -n ${FD_LIMIT}` and hold many connections open against it. */
  private async fdLimit(id: string): Promise<Active> {
    await this.cluster.kill(id);
    this.cluster.restart(id, { nofile: FD_LIMIT });
    const deadline = this.now() + 3000;
    while (this.now() < deadline && !(await this.cluster.status(id))) await sleep(100);
    const flood = new ConnectionFlood(Number(new URL(this.cluster.urlOf(id)).port), FLOOD_CONNECTIONS);
    flood.open();
    return { label: `fd-limit ${id}: ulimit -n ${FD_LIMIT}, ${FLOOD_CONNECTIONS} connections`, heal: async () => flood.close() };
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

/** The last line a server logged, shortened: what it said before it exited. */
const lastLine = (log: string): string => (log.trim().split('\n').at(-1) ?? '').slice(0, 300) || '(nothing logged)';

const set = (ids: readonly string[]): string => `{${[...ids].sort().join(',')}}`;

const modeTag = (mode: CutMode): string => (mode === 'blackhole' ? ' (blackhole)' : '');
