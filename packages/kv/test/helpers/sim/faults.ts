import type { NodeId } from '@raftkit/core';
import type { KvRaftReplica } from '../../../src/index.js';
import type { TestCluster } from '../cluster.js';

export interface FaultStats {
  crashes: number;
  leaderCrashes: number;
  restarts: number;
  partitions: number;
  lossy: number;
}

/**
 * Seeded fault schedule: partitions (random splits, an isolated leader), lossy links (drops,
 * duplicates, reordering, delays), crashes of random nodes and of the leader, and restarts
 * that reopen the crashed node's store. At most a minority is down at once, so the cluster
 * can always make progress once the network heals.
 */
export class FaultInjector {
  readonly stats: FaultStats = { crashes: 0, leaderCrashes: 0, restarts: 0, partitions: 0, lossy: 0 };
  /** Down nodes and when they come back. */
  private readonly down = new Map<NodeId, number>();
  private nextAt = 0;

  constructor(
    private readonly cluster: TestCluster,
    private readonly rand: () => number,
    /** Called with every node booted again. */
    private readonly onBoot: (replica: KvRaftReplica) => void = () => {},
  ) {}

  /** Called every few virtual ms during the fault phase. */
  async step(): Promise<void> {
    const now = this.cluster.clock.now();
    for (const [id, at] of [...this.down]) if (at <= now) await this.restart(id);
    if (now < this.nextAt) return;
    this.nextAt = now + 80 + Math.floor(this.rand() * 320);
    await this.act();
  }

  /** Ends every fault: heals the network and restarts every down node. */
  async healAll(): Promise<void> {
    const net = this.cluster.net;
    net.heal();
    net.clearFaults();
    net.setFaults({ delay: { min: 1, max: 3 } });
    for (const id of [...this.down.keys()]) await this.restart(id);
  }

  private async act(): Promise<void> {
    const r = this.rand();
    if (r < 0.2) return this.partition();
    if (r < 0.3) return this.isolateLeader();
    if (r < 0.45) return this.lossy();
    if (r < 0.6) {
      await this.crash(this.pick(this.cluster.ids));
      return;
    }
    if (r < 0.7) return this.crashLeader();
    this.cluster.net.heal();
  }

  private partition(): void {
    const ids = [...this.cluster.ids];
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    const cut = 1 + Math.floor(this.rand() * (ids.length - 1));
    this.cluster.net.heal();
    this.cluster.net.partition(ids.slice(0, cut), ids.slice(cut));
    this.stats.partitions++;
  }

  private isolateLeader(): void {
    const leader = this.cluster.leader();
    if (!leader) return;
    this.cluster.net.heal();
    this.cluster.net.isolate(leader.node.id);
    this.stats.partitions++;
  }

  private lossy(): void {
    const max = 2 + Math.floor(this.rand() * 25);
    this.cluster.net.setFaults({
      drop: this.rand() * 0.3,
      duplicate: this.rand() * 0.05,
      reorder: this.rand() * 0.1,
      delay: { min: Math.floor(this.rand() * 2), max },
    });
    this.stats.lossy++;
  }

  private async crashLeader(): Promise<void> {
    const leader = this.cluster.leader();
    if (leader && (await this.crash(leader.node.id))) this.stats.leaderCrashes++;
  }

  /** Crashes `id` unless that would take down a majority. */
  private async crash(id: NodeId): Promise<boolean> {
    const minority = Math.floor((this.cluster.ids.length - 1) / 2);
    if (this.down.has(id) || this.down.size >= minority) return false;
    await this.cluster.crash(id);
    this.down.set(id, this.cluster.clock.now() + 100 + Math.floor(this.rand() * 1200));
    this.stats.crashes++;
    return true;
  }

  private async restart(id: NodeId): Promise<void> {
    this.down.delete(id);
    this.onBoot(await this.cluster.boot(id));
    this.stats.restarts++;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }
}
