/**
 * The dashboard's rate charts: once a second, this node's write and read rates (from the
 * server's Prometheus counters, metrics.ts), its commit latency (write requests timed from
 * arrival to acknowledgement: committed by a majority and applied) and its mean fsync time,
 * kept in a bounded ring so a freshly opened page sees the last minutes at once.
 */
import type { ServerMetrics } from './metrics.js';
import { HistoryRing } from './dashboardHistory.js';

/** One second (or so) of this node's traffic. */
export interface RateSample {
  /** End of the interval, ms since the epoch. */
  readonly at: number;
  /** Committed proposals per second (writes this node proposed as leader). */
  readonly writes: number;
  /** Client reads served per second. */
  readonly reads: number;
  /** Write requests acknowledged in the interval, and their latency percentiles (null: none). */
  readonly commits: number;
  readonly commitP50Ms: number | null;
  readonly commitP99Ms: number | null;
  /** Mean durable log write (fsync) time in the interval (null: no write). */
  readonly fsyncMeanMs: number | null;
}

/** The counters a sample reads, as numbers; a test can feed its own. */
export interface RateSource {
  totals(): Promise<{ writes: number; reads: number; fsyncCount: number; fsyncSeconds: number }>;
}

/** Reads the totals from the server's prom-client metrics. */
export function metricsSource(metrics: ServerMetrics): RateSource {
  const sum = async (m: { get(): Promise<{ values: Array<{ value: number; metricName?: string }> }> }, name?: string) => {
    let n = 0;
    for (const v of (await m.get()).values) if (name === undefined || v.metricName === name) n += v.value;
    return n;
  };
  return {
    async totals() {
      const [writes, reads, fsyncCount, fsyncSeconds] = await Promise.all([
        sum(metrics.proposals),
        sum(metrics.reads),
        sum(metrics.fsync, 'raftkit_storage_write_seconds_count'),
        sum(metrics.fsync, 'raftkit_storage_write_seconds_sum'),
      ]);
      return { writes, reads, fsyncCount, fsyncSeconds };
    },
  };
}

/** Most latencies kept per interval; past it, a uniform sample of them (reservoir). */
const MAX_LATENCIES = 4096;

/**
 * Latencies of acknowledged writes in the current interval. `record` is on the request path:
 * one array store (a random replacement past MAX_LATENCIES).
 */
export class CommitTimer {
  private latencies: number[] = [];
  private seen = 0;

  record(ms: number): void {
    this.seen++;
    if (this.latencies.length < MAX_LATENCIES) this.latencies.push(ms);
    else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < MAX_LATENCIES) this.latencies[i] = ms;
    }
  }

  /** The interval's count and percentiles; starts the next interval. */
  take(): { count: number; p50: number | null; p99: number | null } {
    const xs = this.latencies.sort((a, b) => a - b);
    const count = this.seen;
    this.latencies = [];
    this.seen = 0;
    return { count, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99) };
  }
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return round(sorted[rank - 1]!);
}

const round = (x: number): number => Math.round(x * 100) / 100;

export interface RateSamplerOptions {
  readonly intervalMs?: number;
  /** Samples kept (default 300: five minutes at one a second). */
  readonly capacity?: number;
  readonly now?: () => number;
}

/** Takes a RateSample every interval while `running()` holds (stops by itself after that). */
export class RateSampler {
  readonly samples: HistoryRing<RateSample>;
  readonly timer = new CommitTimer();
  readonly intervalMs: number;
  private readonly now: () => number;
  private prev: { at: number; writes: number; reads: number; fsyncCount: number; fsyncSeconds: number } | null = null;
  private handle: NodeJS.Timeout | null = null;
  private sampling = false;

  constructor(private readonly source: RateSource, opts: RateSamplerOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.samples = new HistoryRing(opts.capacity ?? 300);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Starts sampling; it stops once `running()` turns false after having been true. The
   * baseline is taken now, so what happens before the first interval ends is counted.
   */
  start(running: () => boolean): void {
    if (this.handle) return;
    void this.sample();
    let ran = false;
    this.handle = setInterval(() => {
      const r = running();
      if (ran && !r) return this.stop();
      ran ||= r;
      void this.sample();
    }, this.intervalMs);
    this.handle.unref();
  }

  stop(): void {
    if (this.handle) clearInterval(this.handle);
    this.handle = null;
  }

  /** Takes one sample now (the first one only sets the baseline). */
  async sample(): Promise<RateSample | null> {
    if (this.sampling) return null;
    this.sampling = true;
    try {
      const t = await this.source.totals();
      const at = this.now();
      const prev = this.prev;
      this.prev = { at, ...t };
      const commit = this.timer.take();
      if (!prev || at <= prev.at) return null;
      const secs = (at - prev.at) / 1000;
      const fsyncs = t.fsyncCount - prev.fsyncCount;
      const s: RateSample = {
        at,
        writes: round(Math.max(0, t.writes - prev.writes) / secs),
        reads: round(Math.max(0, t.reads - prev.reads) / secs),
        commits: commit.count,
        commitP50Ms: commit.p50,
        commitP99Ms: commit.p99,
        fsyncMeanMs: fsyncs > 0 ? round(((t.fsyncSeconds - prev.fsyncSeconds) * 1000) / fsyncs) : null,
      };
      this.samples.push(s);
      return s;
    } finally {
      this.sampling = false;
    }
  }
}
