import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EVENT_LOOP_DELAY_BUCKETS, EventLoopDelayMetric } from '../src/eventLoopDelay.js';

/** The histogram's samples from the registry's exposition text, as an operator scrapes them. */
async function scrape(registry: Registry): Promise<{ buckets: Map<string, number>; count: number; sum: number }> {
  const text = await registry.metrics();
  const buckets = new Map<string, number>();
  let count = NaN;
  let sum = NaN;
  for (const line of text.split('\n')) {
    const b = /^raftkit_event_loop_delay_seconds_bucket\{le="([^"]+)"\} (\S+)$/.exec(line);
    if (b) buckets.set(b[1]!, Number(b[2]));
    const c = /^raftkit_event_loop_delay_seconds_count (\S+)$/.exec(line);
    if (c) count = Number(c[1]);
    const s = /^raftkit_event_loop_delay_seconds_sum (\S+)$/.exec(line);
    if (s) sum = Number(s[1]);
  }
  return { buckets, count, sum };
}

/** Keeps the event loop busy for `ms`: the stall the metric exists to show. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Lets the sampler's timer run at least once (it fires every 2 ms, before this 10 ms timer). */
const turn = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('raftkit_event_loop_delay_seconds', () => {
  it('is a cumulative histogram in which a 30 ms stall lands above the 20 ms bound', async () => {
    const registry = new Registry();
    // Folded by hand, so the test decides which samples each scrape sees.
    const metric = new EventLoopDelayMetric(registry, { foldEveryMs: 0 });
    try {
      await turn();
      metric.fold();
      const first = await scrape(registry);
      expect(first.buckets.size).toBe(EVENT_LOOP_DELAY_BUCKETS.length + 1);
      // After a fold (a reset) Node measures from its next firing on: let that happen first.
      await turn();
      block(30);
      await turn();
      metric.fold();
      const second = await scrape(registry);
      expect(second.buckets.get('+Inf')).toBe(second.count);
      // The stall is one sample of at least ~28 ms: above 0.02, counted in +Inf only.
      expect(second.count - (second.buckets.get('0.02') ?? NaN)).toBeGreaterThanOrEqual(1);
      expect(second.sum - first.sum).toBeGreaterThanOrEqual(0.02);
      // Cumulative: no bucket ever goes down between scrapes, and bounds are non-decreasing.
      let previous = 0;
      for (const [le, n] of second.buckets) {
        expect(n).toBeGreaterThanOrEqual(first.buckets.get(le)!);
        expect(n).toBeGreaterThanOrEqual(previous);
        previous = n;
      }
    } finally {
      metric.stop();
    }
  });
});
