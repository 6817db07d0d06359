/**
 * What /metrics adds for the dashboards (issue 15 follow-up): `raftkit_write_commit_seconds`,
 * client writes timed from arrival to a successful answer (refused writes and reads are not
 * counted), with cumulative buckets from 0.5 ms to 10 s; `raftkit_log_entries` and
 * `raftkit_log_bytes`, the log's size as GET /v1/dashboard reports it, also after a snapshot
 * compacts the log. One real single-node server (a cluster of one elects itself).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, fastTiming, freePorts, requireBuiltServer, ServerNode } from './helpers/cluster.js';
import { jsonHeaders, putJson, send } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

const BUCKETS = ['0.0005', '0.001', '0.002', '0.005', '0.01', '0.02', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];

let root: string;
let node: ServerNode;

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-dashboard-metrics-'));
  const [port] = await freePorts(1);
  node = new ServerNode('m1', port!, root, ['--id', 'm1', '--listen', `127.0.0.1:${port}`, '--data', join(root, 'm1'), '--snapshot-trailing', '3', ...fastTiming], cleanEnv());
  node.start();
  await waitFor('m1 to lead', async () => (await node.status())?.role === 'leader');
});

afterAll(async () => {
  await node?.kill('SIGKILL');
  if (root) rmSync(root, { recursive: true, force: true });
});

/** One metric's samples: series (name plus labels) -> value. */
async function scrape(): Promise<Map<string, number>> {
  const text = (await send(`${node.url}/metrics`)).text;
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(raftkit_(?:write_commit_seconds|log_entries|log_bytes)\S*) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const bucket = (le: string) => `raftkit_write_commit_seconds_bucket{le="${le}"}`;

describe('raftkit_write_commit_seconds', () => {
  test('counts each acknowledged PUT, DELETE, CAS and txn once, not refusals or reads; buckets cumulative, +Inf = count', async () => {
    const before = await scrape();
    const count0 = before.get('raftkit_write_commit_seconds_count') ?? 0;
    for (let i = 0; i < 10; i++) expect((await putJson(node.url, `m/${i}`, i)).status).toBe(200);
    expect((await send(`${node.url}/v1/kv/m/0`, { method: 'DELETE' })).status).toBe(200);
    expect((await send(`${node.url}/v1/kv/m/1/cas`, { method: 'POST', headers: jsonHeaders, body: '{"expected":1,"value":2}' })).status).toBe(200);
    expect((await send(`${node.url}/v1/txn`, { method: 'POST', headers: jsonHeaders, body: '{"success":[{"op":"put","key":"m/t","value":1}]}' })).status).toBe(200);
    // Refused (400) and reads: not commits.
    expect((await send(`${node.url}/v1/kv/m/bad`, { method: 'PUT', headers: jsonHeaders, body: '{nope' })).status).toBe(400);
    expect((await send(`${node.url}/v1/kv/m/2`)).status).toBe(200);
    const after = await scrape();
    expect(after.get('raftkit_write_commit_seconds_count')! - count0).toBe(13);
    expect(after.get(bucket('+Inf'))).toBe(after.get('raftkit_write_commit_seconds_count'));
    const les = [...after.keys()].filter((k) => k.startsWith('raftkit_write_commit_seconds_bucket')).map((k) => /le="([^"]+)"/.exec(k)![1]);
    expect(les).toEqual(BUCKETS);
    for (let i = 1; i < BUCKETS.length; i++) expect(after.get(bucket(BUCKETS[i]!))).toBeGreaterThanOrEqual(after.get(bucket(BUCKETS[i - 1]!))!);
    // Each write took some time, and on a single node none took 10 s.
    expect(after.get('raftkit_write_commit_seconds_sum')! - (before.get('raftkit_write_commit_seconds_sum') ?? 0)).toBeGreaterThan(0);
    expect(after.get(bucket('10'))).toBe(after.get('raftkit_write_commit_seconds_count'));
  });
});

describe('raftkit_log_entries and raftkit_log_bytes', () => {
  /** The gauges and the dashboard's storage figures, once two scrapes in a row agree with it. */
  const agreeing = (what: string) => waitFor(what, async () => {
    const m = await scrape();
    const storage = (await send(`${node.url}/v1/dashboard`)).json.storage;
    return m.get('raftkit_log_entries') === storage.logEntries && m.get('raftkit_log_bytes') === storage.dbBytes ? { entries: storage.logEntries as number, bytes: storage.dbBytes as number } : null;
  }, { timeoutMs: 10_000 });

  test("equal GET /v1/dashboard's storage figures, before and after a snapshot compacts the log", async () => {
    for (let i = 0; i < 20; i++) expect((await putJson(node.url, `log/${i}`, 'x'.repeat(200))).status).toBe(200);
    const full = await agreeing('the gauges to match the dashboard');
    expect(full.entries).toBeGreaterThanOrEqual(20);
    expect(full.bytes).toBeGreaterThan(0);
    expect((await send(`${node.url}/v1/snapshot`, { method: 'POST' })).status).toBe(200);
    // --snapshot-trailing 3: at most 3 entries stay below the snapshot, plus any appended since.
    const compacted = await agreeing('the gauges to match the dashboard after the snapshot');
    expect(compacted.entries).toBeLessThan(full.entries);
    expect(compacted.entries).toBeLessThanOrEqual(5);
  });
});
