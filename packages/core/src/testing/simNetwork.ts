import type { NodeId } from '../consensus/types.js';

/**
 * Which links of the simulated network are cut, and when each last lost a message. Cuts are
 * random partitions (`repartition`) or one group cut off for a while and then let back in
 * (`cutOff`, `rejoinDue`): the rejoin after a partition that must not disturb a healthy leader.
 */
export class SimNetwork {
  private readonly blocked = new Set<string>();
  private readonly lastDrop = new Map<string, number>();
  private isolation: { links: string[]; until: number } | null = null;
  rejoins = 0;

  constructor(
    private readonly ids: readonly NodeId[],
    private readonly rand: () => number,
  ) {}

  allows(from: NodeId, to: NodeId): boolean {
    return !this.blocked.has(`${from}>${to}`);
  }

  /** Records that a message on the link was lost. */
  dropped(from: NodeId, to: NodeId, now: number): void {
    this.lastDrop.set(`${from}>${to}`, now);
  }

  /** Open, and lost no message in the last `steps` steps. */
  healthy(from: NodeId, to: NodeId, now: number, steps: number): boolean {
    return this.allows(from, to) && (this.lastDrop.get(`${from}>${to}`) ?? -Infinity) < now - steps;
  }

  get isolating(): boolean {
    return this.isolation !== null;
  }

  healAll(): void {
    this.blocked.clear();
    this.isolation = null;
  }

  /** A random partition into two sides (both ways, or one way), or healed. */
  repartition(): void {
    this.blocked.clear();
    const r = this.rand();
    if (r < 0.3) return; // healed
    const shuffled = [...this.ids].sort(() => this.rand() - 0.5);
    const cut = 1 + Math.floor(this.rand() * (this.ids.length - 1));
    const [a, b] = [shuffled.slice(0, cut), shuffled.slice(cut)];
    const oneWay = r > 0.8;
    for (const x of a) for (const y of b) {
      this.blocked.add(`${x}>${y}`);
      if (!oneWay) this.blocked.add(`${y}>${x}`);
    }
  }

  /** Cuts `away` off until `until`: both ways (dir < 0.6), only out of it (< 0.8) or only into it. */
  cutOff(away: readonly NodeId[], dir: number, until: number): void {
    const links: string[] = [];
    for (const x of away) for (const y of this.ids.filter((id) => !away.includes(id))) {
      if (dir < 0.8) links.push(`${x}>${y}`);
      if (dir < 0.6 || dir >= 0.8) links.push(`${y}>${x}`);
    }
    for (const l of links) this.blocked.add(l);
    this.isolation = { links, until };
  }

  /** Lets a cut-off group back in once its time is up. */
  rejoinDue(now: number): void {
    if (!this.isolation || now < this.isolation.until) return;
    for (const l of this.isolation.links) this.blocked.delete(l);
    this.isolation = null;
    this.rejoins++;
  }
}
