// deploy/grafana/raftkit.json: every metric its queries read is one a real raftkit-server
// exports at /metrics (a node started here on 127.0.0.1, after a write and a read).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exposedNames, metricNames } from './helpers/promql.js';
import { read } from './helpers/deployFiles.js';
import { startServer, waitFor, type RealServer } from './helpers/realServer.js';

interface Target {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
  datasource?: { type: string; uid: string };
}
const dashboard = JSON.parse(read('deploy/grafana/raftkit.json')) as { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: Array<{ name: string; type: string; query: unknown }> } };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => ({ panel: `variable $${v.name}`, expr: String((v.query as { query?: string }).query ?? v.query).replace(/^label_values\(([^,)]+).*$/, '$1') }));

describe('the PromQL name extraction', () => {
  test('finds the metrics and only them', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, instance) (rate(a_seconds_bucket{job=~"$job"}[$__rate_interval])))')).toEqual(['a_seconds_bucket']);
    expect(metricNames('scalar(max(x_index{job=~"$job"})) - y_index{job=~"$job"} == 1')).toEqual(['x_index', 'y_index']);
    expect(metricNames('sum(increase(e_total[$__range])) / 1e3')).toEqual(['e_total']);
    expect(() => metricNames('made_up_function(x)')).toThrow(/unknown function made_up_function/);
  });

  test('reads a Prometheus exposition: samples, and declared metrics without samples', () => {
    const names = exposedNames('# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 0\n# TYPE c counter\ng{a="b"} 1\n');
    expect([...names].sort()).toEqual(['c', 'g', 'h', 'h_bucket', 'h_count', 'h_sum']);
  });
});

describe('deploy/grafana/raftkit.json', () => {
  test('a dashboard over a Prometheus data source chosen at import ($datasource)', () => {
    expect(dashboard).toMatchObject({ uid: 'raftkit-cluster', title: 'raftkit' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  test('shows what an operator looks for', () => {
    const used = new Set(queries.flatMap((q) => metricNames(q.expr)));
    for (const m of ['raftkit_is_leader', 'raftkit_term', 'raftkit_commit_index', 'raftkit_applied_index', 'raftkit_peer_replication_lag_entries', 'raftkit_proposals_total', 'raftkit_reads_total', 'raftkit_storage_write_seconds_bucket', 'raftkit_storage_fsync_seconds_bucket', 'raftkit_storage_handoff_seconds_bucket', 'raftkit_write_commit_seconds_bucket', 'raftkit_log_entries', 'raftkit_log_bytes', 'raftkit_event_loop_delay_seconds_bucket', 'raftkit_snapshot_bytes', 'raftkit_snapshot_index', 'raftkit_elections_total']) {
      expect([...used]).toContain(m);
    }
  });

  describe('against a running server', () => {
    let server: RealServer;
    let exposed: Set<string>;
    beforeAll(async () => {
      server = await startServer();
      // A single node elects itself; then one write and one read, so labelled counters have samples.
      await waitFor('the node to take a write', async () => (await fetch(`${server.url}/v1/kv/grafana`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"check"' })).status === 200);
      expect((await fetch(`${server.url}/v1/kv/grafana`)).status).toBe(200);
      exposed = exposedNames(await (await fetch(`${server.url}/metrics`)).text());
    });
    afterAll(() => server?.stop());

    test('the server exports what the check compares against', () => {
      expect(exposed.has('raftkit_proposals_total')).toBe(true);
      expect(exposed.has('raftkit_storage_write_seconds_bucket')).toBe(true);
      expect(exposed.has('raftkit_write_commit_seconds_bucket')).toBe(true);
      expect(exposed.has('no_such_metric')).toBe(false);
    });

    test.each([...queries, ...variableQueries].map((q) => [q.panel, q.expr] as const))('%s: %s', (_panel, expr) => {
      const names = metricNames(expr);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !exposed.has(n))).toEqual([]);
    });
  });
});
