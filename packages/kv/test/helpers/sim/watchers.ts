import { seededRandom } from '@raftkit/core';
import { isKvError, KvCompactedError, KvErrorCode, KvWatchOverflowError, type KvRaftReplica, type WatchEvent, type WatchFilter, type WatchStream } from '../../../src/index.js';
import type { TestCluster } from '../cluster.js';

export interface WatcherStats {
  watchers: number;
  events: number;
  /** Watches opened again after the first, on whichever replica. */
  reconnects: number;
  /** Watches ended by their replica: KV_COMPACTED after it restored a snapshot past them. */
  endedByRestore: number;
  /** Resume points compacted on every running replica: restarted at the oldest revision held. */
  compacted: number;
  /** Revisions skipped by those restarts (accounted gaps, excluded from the check). */
  gapRevisions: number;
}

/** Why a watcher left its replica, for the report of a failure. */
type Leave = 'crashed' | 'lagging' | 'moved' | 'ended' | 'compacted';

const CHECK_MS = 100;

/**
 * A watcher as a client would run one: a watch on a key or prefix on one replica, moved to
 * another when that one crashes, falls behind (cut off by a partition: it applies less than
 * the most advanced replica had applied one check earlier), ends its watch (KV_COMPACTED after
 * restoring a snapshot past it), or at random. It resumes from the last revision it delivered
 * + 1 (or the `lastRevision` the ending error names); if every running replica has compacted
 * that, it restarts at the oldest revision one holds and records the gap.
 */
export class SimWatcher {
  /** Every event delivered, in delivery order. */
  readonly events: WatchEvent[] = [];
  /** Accounted gaps [from, to]: revisions a compaction restart skipped. */
  readonly gaps: [number, number][] = [];
  /** Where the replicas it used and why it left each, for a failure report. */
  readonly trail: string[] = [];
  reconnects = 0;
  compacted = 0;
  /** Watches that ended with KV_COMPACTED (a restore past them) or KV_WATCH_OVERFLOW. */
  endedByError = 0;
  /** Every matching change up to here was delivered (or lies in a gap). */
  through: number;
  private current: { replica: KvRaftReplica; id: string; stream: WatchStream } | null = null;

  constructor(
    readonly name: string,
    readonly filter: WatchFilter,
    readonly prevValue: boolean,
    /** First revision it watches. */
    readonly startRevision: number,
    /** Stays on a lagging replica (until it crashes or ends the watch), to see it catch up or restore. */
    readonly sticky: boolean,
    private readonly cluster: TestCluster,
    private readonly rand: () => number,
  ) {
    this.through = startRevision - 1;
  }

  matches(key: string): boolean {
    return this.filter.key !== undefined ? key === this.filter.key : key.startsWith(this.filter.prefix!);
  }

  /** Opens the first watch, on `home`. */
  start(home: KvRaftReplica): void {
    this.open(home, this.startRevision);
  }

  /** Called every CHECK_MS: leaves a dead, lagging or ended watch, then attaches if detached. */
  check(bestApplied: number): void {
    const c = this.current;
    if (c !== null) {
      const leave: Leave | null =
        !this.cluster.isUp(c.id) || this.cluster.replica(c.id) !== c.replica ? 'crashed'
        : !this.sticky && c.replica.node.status().appliedIndex < bestApplied ? 'lagging'
        : this.rand() < 0.03 ? 'moved'
        : null;
      if (leave === null) return;
      this.detach(leave);
    }
    this.attach(bestApplied);
  }

  stop(): void {
    if (this.current !== null) this.detach('ended');
  }

  private detach(why: Leave): void {
    const c = this.current!;
    this.current = null;
    this.trail.push(`left ${c.id} (${why}) after ${this.through}`);
    void c.stream.return();
  }

  /** Opens the watch again at `through + 1` on a random running replica that keeps up, or the next one. */
  private attach(bestApplied: number): void {
    const lags = (r: KvRaftReplica): number => (r.node.status().appliedIndex < bestApplied ? 1 : 0);
    const replicas = shuffle(this.cluster.up(), this.rand).sort((a, b) => lags(a) - lags(b));
    if (replicas.length === 0) return;
    const from = this.through + 1;
    let oldest: { replica: KvRaftReplica; at: number } | null = null;
    for (const replica of replicas) {
      try {
        return this.open(replica, from);
      } catch (err) {
        if (!(err instanceof KvCompactedError)) throw err;
        if (oldest === null || err.oldestRevision < oldest.at) oldest = { replica, at: err.oldestRevision };
      }
    }
    // Compacted everywhere: restart where the most history is left, and account for the gap.
    this.compacted++;
    this.gaps.push([from, oldest!.at - 1]);
    this.through = oldest!.at - 1;
    this.open(oldest!.replica, oldest!.at);
  }

  private open(replica: KvRaftReplica, from: number): void {
    const stream = replica.machine.watch(this.filter, { fromRevision: from, prevValue: this.prevValue });
    if (this.events.length > 0 || this.trail.length > 0) this.reconnects++;
    const id = replica.node.id;
    this.trail.push(`on ${id} from ${from}`);
    this.current = { replica, id, stream };
    void this.consume(stream);
  }

  private async consume(stream: WatchStream): Promise<void> {
    try {
      for await (const event of stream) {
        // Left already (a check ran at the same instant as the apply, before this event came
        // through): the next watch, from `through + 1`, delivers it.
        if (this.current?.stream !== stream) return;
        this.events.push(event);
        this.through = Math.max(this.through, event.revision);
      }
    } catch (err) {
      if (this.current?.stream !== stream) return;
      // A restore past the watch (or a slow consumer): it names what it delivered.
      if ((err instanceof KvCompactedError || err instanceof KvWatchOverflowError) && err.lastRevision !== undefined) {
        this.endedByError++;
        this.through = Math.max(this.through, err.lastRevision);
      } else if (!isKvError(err, KvErrorCode.Compacted)) {
        this.trail.push(`watch failed: ${String(err)}`);
      }
    }
    if (this.current?.stream === stream) this.detach('ended');
  }
}

/** A few watchers per seed, each joining at a random time in the fault phase. */
export class WatcherSet {
  readonly watchers: SimWatcher[] = [];
  private timer: unknown;
  /** Most advanced applied index among running replicas at the last check. */
  private best = 0;

  constructor(
    private readonly cluster: TestCluster,
    seed: number,
    faultMs: number,
  ) {
    const rand = seededRandom(seed);
    const filters: WatchFilter[] = [{ key: 'a0' }, { key: 'b1' }, { prefix: 'a' }, { prefix: 'b' }, { prefix: '' }];
    const n = 2 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) {
      const filter = filters[Math.floor(rand() * filters.length)]!;
      const prevValue = rand() < 0.5;
      const joinAt = Math.floor(rand() * faultMs * 0.8);
      const back = Math.floor(rand() * 40);
      const wrand = seededRandom(Math.floor(rand() * 2 ** 31));
      cluster.clock.setTimeout(() => this.join(`w${i + 1}`, filter, prevValue, back, wrand), joinAt);
    }
    this.timer = cluster.clock.setInterval(() => this.check(), CHECK_MS);
  }

  get stats(): WatcherStats {
    const sum = (f: (w: SimWatcher) => number): number => this.watchers.reduce((n, w) => n + f(w), 0);
    return {
      watchers: this.watchers.length,
      events: sum((w) => w.events.length),
      reconnects: sum((w) => w.reconnects),
      endedByRestore: sum((w) => w.endedByError),
      compacted: sum((w) => w.compacted),
      gapRevisions: sum((w) => w.gaps.reduce((n, [a, b]) => n + b - a + 1, 0)),
    };
  }

  stop(): void {
    this.cluster.clock.clearInterval(this.timer);
    for (const w of this.watchers) w.stop();
  }

  /** Starts a watcher up to `back` revisions before what a running replica has applied. */
  private join(name: string, filter: WatchFilter, prevValue: boolean, back: number, rand: () => number): void {
    const up = this.cluster.up();
    if (up.length === 0) return;
    const home = up[Math.floor(rand() * up.length)]!;
    const from = Math.max(home.machine.oldestWatchRevision, home.node.status().appliedIndex + 1 - back, 1);
    const w = new SimWatcher(name, filter, prevValue, from, rand() < 0.5, this.cluster, rand);
    this.watchers.push(w);
    w.start(home);
  }

  private check(): void {
    const best = this.best;
    for (const w of this.watchers) w.check(best);
    this.best = Math.max(0, ...this.cluster.up().map((r) => r.node.status().appliedIndex));
  }
}

function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
