import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

/**
 * Bucket bounds (seconds). Fine below 2 ms, where a healthy node lives (issue 11's target is a
 * p99 under 2 ms), coarse above, where only the order of magnitude of a stall matters.
 */
export const EVENT_LOOP_DELAY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
] as const;

/**
 * How often Node's sampler timer fires. Each sample is how late that timer ran, so a stall of
 * any length shows up in full in one sample; 2 ms keeps the wake-ups of an idle node cheap.
 */
const RESOLUTION_MS = 2;
const NS_PER_S = 1e9;
const FOLD_EVERY_MS = 1000;

/**
 * `raftkit_event_loop_delay_seconds`: a cumulative Prometheus histogram of how late the event
 * loop ran timers (perf_hooks.monitorEventLoopDelay), for operators (rate it, take quantiles
 * over any window) and for `bench/load.mjs`, which diffs two scrapes per case.
 *
 * prom-client's own `nodejs_eventloop_lag_p99_seconds` and friends cannot serve either: they
 * are gauges over "the time since the previous scrape" (so two scrapers steal each other's
 * samples), and each value includes the 10 ms sampling interval itself.
 *
 * Node's native histogram cannot be read by bucket, so every `FOLD_EVERY_MS` it is folded into
 * the cumulative counts (for every bucket bound, a binary search over `percentile()` finds the
 * fraction of samples at or below it, to 1/4096 of them) and reset. Folding on its own timer,
 * not at scrape time: the first interval after a reset is not sampled (Node restarts its
 * measurement), so a scrape-time reset would hide exactly the stall a scrape is followed by;
 * on a timer that blind spot is one 2 ms interval per second, wherever the scrapes fall.
 * A scrape therefore sees the samples up to the last fold (at most 1 s old). Once a second,
 * not more often: each fold costs up to 12 `percentile()` walks of the native histogram per
 * bucket, and folding every 250 ms was about 1% of a busy node's CPU (issue 11).
 */
export class EventLoopDelayMetric {
  readonly name = 'raftkit_event_loop_delay_seconds';
  readonly help = `How late the event loop ran a timer (perf_hooks.monitorEventLoopDelay, sampled every ${RESOLUTION_MS} ms)`;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly native: IntervalHistogram;
  /** Invariant: cumulative[i] counts samples <= EVENT_LOOP_DELAY_BUCKETS[i], non-decreasing in i, <= count. */
  private readonly cumulative: number[] = EVENT_LOOP_DELAY_BUCKETS.map(() => 0);
  private count = 0;
  private sum = 0;

  private readonly timer: NodeJS.Timeout | null;

  /** `foldEveryMs: 0` folds only when `fold()` is called (tests). */
  constructor(registry: Registry, opts: { foldEveryMs?: number } = {}) {
    this.native = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.native.enable();
    const every = opts.foldEveryMs ?? FOLD_EVERY_MS;
    this.timer = every > 0 ? setInterval(() => this.fold(), every).unref() : null;
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Stops sampling (the server's shutdown). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.native.disable();
  }

  /** prom-client calls this at each scrape: the counts as of the last fold. */
  get(): { name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Record<string, string | number>; value: number }[] } {
    const bucket = `${this.name}_bucket`;
    const values = EVENT_LOOP_DELAY_BUCKETS.map((le, i) => ({ metricName: bucket, labels: { le } as Record<string, string | number>, value: this.cumulative[i]! }));
    values.push({ metricName: bucket, labels: { le: '+Inf' }, value: this.count });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Adds the native histogram's samples to the cumulative counts and resets it. */
  fold(): void {
    const h = this.native;
    const n = h.count;
    if (n === 0) return;
    // A sample is the time between two firings, the interval included: subtract it.
    const offsetNs = RESOLUTION_MS * 1e6;
    const min = h.min;
    const max = h.max;
    let below = 0;
    let fraction = 0;
    for (let i = 0; i < EVENT_LOOP_DELAY_BUCKETS.length; i++) {
      const boundNs = EVENT_LOOP_DELAY_BUCKETS[i]! * NS_PER_S + offsetNs;
      // Bounds ascend, so each search starts where the one below it ended.
      fraction = fractionAtOrBelow(h, boundNs, min, max, fraction);
      below = Math.max(below, Math.round((fraction * n) / 100));
      this.cumulative[i]! += below;
    }
    this.count += n;
    this.sum += (Math.max(0, h.mean - offsetNs) * n) / NS_PER_S;
    h.reset();
  }
}

/**
 * The largest percentile (0-100) whose value is at most `boundNs`, to 100/4096 of the range
 * searched; `from` is a percentile known to be at or below the answer.
 */
function fractionAtOrBelow(h: IntervalHistogram, boundNs: number, min: number, max: number, from: number): number {
  if (max <= boundNs) return 100;
  if (min > boundNs) return 0;
  let lo = from;
  let hi = 100;
  for (let step = 0; step < 12; step++) {
    const mid = (lo + hi) / 2;
    if (h.percentile(mid) <= boundNs) lo = mid;
    else hi = mid;
  }
  return lo;
}
