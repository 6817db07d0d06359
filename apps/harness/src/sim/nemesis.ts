import type { SimCluster } from './cluster.js';
import { MembershipNemesis } from './membershipNemesis.js';
import type { NodeClock } from './nodeClock.js';
import type { SimProfile } from './profiles.js';

/** One fault the nemesis injected, for the trace and the summary. */
export interface FaultEvent {
  readonly at: number;
  readonly kind: string;
  readonly detail: string;
}

/**
 * Injects faults on a seeded schedule: partitions (random halves, a leader isolated with a
 * minority, a bridge node that sees both sides, one-way cuts), message drops, duplicates,
 * reordering and delay, crashes and restarts, and slow disks.
 */
export class Nemesis {
  readonly events: FaultEvent[] = [];
  private downUntil = new Map<string, number>();
  /** Drawn per seed, so seeds differ in character: calm or stormy, crashy or partition-prone. */
  private readonly profile: { rate: number; crashBias: number; slowDisks: boolean; leaderChurn: boolean; pauses: boolean; rejoin: boolean };
  /** Leader churn: a newly elected leader is killed a few ms in, before its term settles. */
  private lastLeader: string | null = null;
  private churnAt: { id: string; at: number } | null = null;
  /** A minority cut off with no other fault meanwhile; it rejoins at `until`. */
  private isolation: { until: number } | null = null;
  /** A paused (SIGSTOPped) leader, resumed at `until`; no other fault meanwhile. */
  private paused: { id: string; clock: NodeClock; until: number } | null = null;
  /**
   * Called as a paused node resumes, before any of its timers runs: the workload sends it lease
   * reads then, the moment a stale lease would answer them (issue 9, finding 1).
   */
  onResume: (id: string) => void = () => {};
  /** Membership churn (the `membership` profile), interleaved with the faults above. */
  readonly members: MembershipNemesis | null;

  constructor(
    private readonly c: SimCluster,
    named?: SimProfile,
  ) {
    this.profile = { rate: 0.005 + c.rand() * 0.045, crashBias: c.rand(), slowDisks: c.rand() < 0.3, leaderChurn: c.rand() < 0.35, pauses: named === 'pauses', rejoin: named === 'rejoin' };
    // The targeted schedules of the message-level engine, as far as this engine has them.
    if (named === 'figure8') this.profile.leaderChurn = true;
    if (named === 'torn-writes') Object.assign(this.profile, { slowDisks: true, crashBias: 1 });
    if (this.profile.slowDisks) for (const id of c.ids) c.setDisk(id, [0, 25]);
    // Up to 5 voters from 3, 7 from 5: the cluster grows, shrinks to one, and back.
    this.members = named === 'membership' ? new MembershipNemesis(c, c.ids.length + 2, (kind, detail) => this.log(kind, detail)) : null;
  }

  private log(kind: string, detail: string): void {
    this.events.push({ at: this.c.now(), kind, detail });
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.c.rand() * xs.length)]!;
  }

  private shuffled(): string[] {
    const xs = [...this.c.ids];
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.c.rand() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }

  /** Called every step: maybe inject one fault, and bring back nodes whose downtime is over. */
  async step(): Promise<void> {
    for (const [id, until] of this.downUntil) {
      if (this.c.now() >= until) {
        this.downUntil.delete(id);
        await this.c.restart(id);
        this.log('restart', id);
      }
    }
    if (this.profile.leaderChurn) await this.churn();
    if (this.paused) {
      if (this.c.now() < this.paused.until) return;
      this.resume();
    }
    if (this.isolation) {
      if (this.c.now() < this.isolation.until) return;
      this.isolation = null;
      this.c.net.heal();
      this.log('rejoin', 'the isolated minority is let back in');
    }
    if (this.members) {
      const cut = await this.members.step(0.02);
      if (cut) return this.cutAfterBurst(cut);
    }
    if (this.c.rand() > this.profile.rate) return;
    if (this.profile.pauses && this.c.rand() < 0.7) return this.pauseLeader();
    if (this.profile.rejoin && this.c.rand() < 0.7) return this.isolateMinority();
    const r = this.c.rand();
    if (r < this.profile.crashBias * 0.5) await this.crash();
    else if (r < 0.6) this.partition();
    else if (r < 0.7) this.networkFaults();
    else if (r < 0.75) this.slowDisk();
    else if (r < 0.85) this.heal();
    else if (r < 0.89) this.leaderMinority();
    else if (r < 0.93) this.pauseLeader();
    else this.isolateMinority();
  }

  /**
   * SIGSTOPs the leader for 2-4 election timeouts while the others elect a new leader and
   * acknowledge writes; on resume it gets lease reads before any of its timers runs. A lease
   * counted in timer callbacks instead of elapsed time answers them with stale values.
   */
  private pauseLeader(): void {
    const leader = this.c.leaders()[0];
    if (!leader) return;
    this.c.net.heal();
    this.c.net.clearFaults();
    const clock = this.c.pause(leader);
    if (!clock) return;
    const election = this.c.electionMs();
    this.paused = { id: leader, clock, until: this.c.now() + Math.floor(election * (2 + this.c.rand() * 2)) };
    this.log('pause', `${leader} (leader) until ${this.paused.until}`);
  }

  private resume(): void {
    const p = this.paused!;
    this.paused = null;
    this.c.net.heal();
    // A node crashed while paused has a new clock (or none); only the paused process resumes.
    if (this.c.member(p.id).clock !== p.clock) return;
    this.onResume(p.id);
    p.clock.resume();
    this.log('resume', p.id);
  }

  /**
   * Cuts a minority of followers off from the rest, both ways or one way, on an otherwise
   * healthy network, and lets it back in some hundreds of ms later. The leader and the
   * majority stay healthy throughout, so neither the cut nor the rejoin may cost the leader
   * its leadership or raise any term (the stability check; pre-vote and check-quorum).
   */
  private isolateMinority(): void {
    const leader = this.c.leaders()[0];
    if (!leader) return;
    const size = 1 + Math.floor(this.c.rand() * Math.floor((this.c.ids.length - 1) / 2));
    const away = this.shuffled().filter((x) => x !== leader).slice(0, size);
    const rest = this.c.ids.filter((x) => !away.includes(x));
    this.c.net.heal();
    this.c.net.clearFaults();
    const dir = this.c.rand(); // both ways, or only out of the minority, or only into it
    for (const x of away) for (const y of rest) {
      if (dir < 0.8) this.c.net.block(x, y);
      if (dir < 0.6 || dir >= 0.8) this.c.net.block(y, x);
    }
    this.isolation = { until: this.c.now() + 300 + Math.floor(this.c.rand() * 500) };
    const how = dir < 0.6 ? 'both ways' : dir < 0.8 ? 'cannot send' : 'cannot hear';
    this.log('isolate', `${away.join(',')} ${how} until ${this.isolation.until}`);
  }

  /** Holds the cut a burst of changes asked for: the leader's side, and everyone else. */
  private cutAfterBurst([side, rest]: [string[], string[]]): void {
    this.c.net.heal();
    this.c.net.partition(side, rest);
    this.isolation = { until: this.c.now() + 200 + Math.floor(this.c.rand() * 600) };
    this.log('member-cut', `${side.join(',')} | ${rest.join(',')} until ${this.isolation.until}`);
  }

  private partition(): void {
    const xs = this.shuffled();
    const cut = 1 + Math.floor(this.c.rand() * (xs.length - 1));
    const a = xs.slice(0, cut);
    const b = xs.slice(cut);
    this.c.net.heal();
    const kind = this.c.rand();
    if (kind < 0.5) {
      this.c.net.partition(a, b);
      this.log('partition', `${a.join(',')} | ${b.join(',')}`);
    } else if (kind < 0.75 && xs.length >= 3) {
      // A bridge: one node talks to both sides, which cannot talk to each other.
      const [bridge, ...rest] = xs;
      const left = rest.slice(0, Math.ceil(rest.length / 2));
      const right = rest.slice(left.length);
      for (const x of left) for (const y of right) {
        this.c.net.block(x, y);
        this.c.net.block(y, x);
      }
      this.log('bridge', `${left.join(',')} <- ${bridge} -> ${right.join(',')}`);
    } else {
      for (const x of a) for (const y of b) this.c.net.block(x, y);
      this.log('one-way', `${a.join(',')} -/-> ${b.join(',')}`);
    }
  }

  /** Isolates the current leader with a minority, so the majority must elect anew. */
  private leaderMinority(): void {
    const leader = this.c.leaders()[0];
    if (!leader) return;
    const others = this.shuffled().filter((x) => x !== leader);
    const minoritySize = Math.max(1, Math.floor((this.c.ids.length - 1) / 2));
    const minority = [leader, ...others.slice(0, minoritySize - 1)];
    const majority = this.c.ids.filter((x) => !minority.includes(x));
    this.c.net.heal();
    this.c.net.partition(minority, majority);
    this.log('leader-minority', `${minority.join(',')} | ${majority.join(',')}`);
  }

  private async churn(): Promise<void> {
    const leader = this.c.leaders()[0] ?? null;
    if (leader !== null && leader !== this.lastLeader && this.c.rand() < 0.6) {
      this.churnAt = { id: leader, at: this.c.now() + 1 + Math.floor(this.c.rand() * 30) };
    }
    this.lastLeader = leader;
    if (this.churnAt && this.c.now() >= this.churnAt.at) {
      const { id } = this.churnAt;
      this.churnAt = null;
      if (!this.c.isUp(id) || this.downUntil.has(id) || this.paused?.id === id) return;
      await this.c.crash(id);
      this.downUntil.set(id, this.c.now() + 20 + Math.floor(this.c.rand() * 300));
      this.log('crash', `${id} (new leader)`);
    }
  }

  private networkFaults(): void {
    const f = {
      drop: this.c.rand() * 0.2,
      duplicate: this.c.rand() * 0.1,
      reorder: this.c.rand() * 0.2,
      delay: { min: 0, max: 1 + Math.floor(this.c.rand() * 15) },
    };
    this.c.net.setFaults(f);
    this.log('network', `drop ${f.drop.toFixed(2)} dup ${f.duplicate.toFixed(2)} reorder ${f.reorder.toFixed(2)} delay 0-${f.delay.max}ms`);
  }

  private async crash(): Promise<void> {
    const up = this.c.ids.filter((id) => this.c.isUp(id) && !this.downUntil.has(id));
    if (up.length === 0) return;
    const leader = this.c.leaders()[0];
    const victim = leader && this.c.rand() < 0.5 ? leader : this.pick(up);
    await this.c.crash(victim);
    this.downUntil.set(victim, this.c.now() + 50 + Math.floor(this.c.rand() * 800));
    this.log('crash', victim + (victim === leader ? ' (leader)' : ''));
  }

  private slowDisk(): void {
    const id = this.pick(this.c.ids);
    const max = 1 + Math.floor(this.c.rand() * 30);
    this.c.setDisk(id, [0, max]);
    this.log('slow-disk', `${id} 0-${max}ms`);
  }

  heal(): void {
    this.c.net.heal();
    this.c.net.clearFaults();
    this.log('heal', 'network healed');
  }

  /** Ends the fault phase: heal everything, fast disks, every node up. */
  async calm(): Promise<void> {
    if (this.paused) this.resume();
    this.heal();
    for (const id of this.c.ids) this.c.setDisk(id, [0, 0]);
    for (const id of this.downUntil.keys()) await this.c.restart(id);
    this.downUntil.clear();
    this.log('calm', 'faults stopped; all nodes up');
  }
}
