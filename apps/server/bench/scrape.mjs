// Per-node figures for one bench case, from two scrapes of GET /metrics (before and after):
// event-loop delay quantiles from the raftkit_event_loop_delay_seconds histogram's bucket
// differences (interpolated within a bucket, as Prometheus' histogram_quantile does), and CPU
// use from process_cpu_seconds_total (all of the process's threads: over 100% is possible).

/** The samples of one scrape that the bench reads: bucket counts by bound, CPU seconds. */
export async function scrape(url) {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const buckets = [];
  let cpu = NaN;
  for (const line of text.split('\n')) {
    const b = /^raftkit_event_loop_delay_seconds_bucket\{le="([^"]+)"\} (\S+)$/.exec(line);
    if (b) buckets.push({ le: b[1] === '+Inf' ? Infinity : Number(b[1]), count: Number(b[2]) });
    const c = /^process_cpu_seconds_total (\S+)$/.exec(line);
    if (c) cpu = Number(c[1]);
  }
  if (buckets.length === 0) throw new Error(`${url}/metrics has no raftkit_event_loop_delay_seconds (an old build? run pnpm build)`);
  return { at: performance.now(), buckets, cpu };
}

/** The q-quantile (0-1) of the samples between two scrapes, in ms; null without samples. */
function quantileMs(before, after, q) {
  const diff = after.buckets.map((b, i) => ({ le: b.le, count: b.count - before.buckets[i].count }));
  const total = diff[diff.length - 1].count;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of diff) {
    if (b.count >= rank) {
      // Over the top finite bound there is nothing to interpolate to: report the bound.
      if (b.le === Infinity) return prevLe * 1000;
      const share = b.count === prevCount ? 1 : (rank - prevCount) / (b.count - prevCount);
      return (prevLe + (b.le - prevLe) * share) * 1000;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe * 1000;
}

/** The upper bound of the highest bucket that got a sample, in ms ("max <= this"). */
function maxBoundMs(before, after) {
  let bound = 0;
  let prev = 0;
  for (let i = 0; i < after.buckets.length; i++) {
    const n = after.buckets[i].count - before.buckets[i].count;
    if (n > prev) bound = after.buckets[i].le;
    prev = n;
  }
  return bound * 1000;
}

const fmt = (ms) => (ms === null ? '-' : ms === Infinity ? '>2500' : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

/**
 * `p50/p99/<=max` event-loop delay in ms, from `before` to `folded` (a scrape taken once the
 * server has folded the case's last samples), and CPU % of one core (all of the process's
 * threads) from `before` to `after`, the scrape right at the end of the case.
 */
export function caseFigures(before, after, folded) {
  const seconds = (after.at - before.at) / 1000;
  return {
    eld: `${fmt(quantileMs(before, folded, 0.5))}/${fmt(quantileMs(before, folded, 0.99))}/<=${fmt(maxBoundMs(before, folded))}`,
    cpu: `${Math.round(((after.cpu - before.cpu) / seconds) * 100)}%`,
  };
}
