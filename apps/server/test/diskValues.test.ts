/**
 * --disk-values (on by default), on one real single-node server: a value of at least
 * --disk-values-from bytes is kept in a file under <data>/values rather than the heap, is served
 * back whole, is counted in /metrics, and survives kill -9 (the files are rebuilt from the log
 * at the next start). --disk-values=false keeps every value in memory.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.js';
import { cleanEnv, fastTiming, freePorts, requireBuiltServer, ServerNode } from './helpers/cluster.js';
import { getKey, putJson, send } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

let root: string;
let node: ServerNode;
const big = 'v'.repeat(10_000);

const valueFiles = (n: ServerNode) => readdirSync(join(n.dataDir, 'values')).filter((f) => f.endsWith('.seg'));
const metric = async (n: ServerNode, name: string): Promise<number> => {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec((await send(`${n.url}/metrics`)).text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
};

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-disk-values-'));
  const [port] = await freePorts(1);
  node = new ServerNode('d1', port!, root, ['--id', 'd1', '--listen', `127.0.0.1:${port}`, '--data', join(root, 'd1'), ...fastTiming], cleanEnv());
  node.start();
  await waitFor('d1 to lead', async () => (await node.status())?.role === 'leader');
});

afterAll(async () => {
  await node?.kill('SIGKILL');
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('--disk-values', () => {
  test('a large value goes to a value file, a small one does not; both are served and counted', async () => {
    expect((await putJson(node.url, 'big', big)).status).toBe(200);
    expect((await putJson(node.url, 'small', 'tiny')).status).toBe(200);
    expect((await getKey(node.url, 'big')).json.value).toBe(big);
    expect((await getKey(node.url, 'small')).json.value).toBe('tiny');
    const files = valueFiles(node);
    expect(files).toHaveLength(1);
    expect(statSync(join(node.dataDir, 'values', files[0]!)).size).toBeGreaterThan(10_000);
    expect(await metric(node, 'raftkit_disk_values')).toBe(1);
    expect(await metric(node, 'raftkit_disk_value_fallbacks')).toBe(0);
  });

  test('after kill -9 the value files are rebuilt from the log and every value is served', async () => {
    await node.kill('SIGKILL');
    node.start();
    await waitFor('d1 to lead again', async () => (await node.status())?.role === 'leader');
    expect((await getKey(node.url, 'big')).json.value).toBe(big);
    expect((await getKey(node.url, 'small')).json.value).toBe('tiny');
    expect(await metric(node, 'raftkit_disk_values')).toBe(1);
    expect(valueFiles(node)).toEqual(['values-00000001.seg']); // the old files were deleted at open
  });

  test('--disk-values=false keeps values in memory; bad thresholds are refused by name', () => {
    const base = ['--id', 'x', '--listen', '127.0.0.1:0', '--data', join(root, 'x')];
    expect(loadConfig(base, {}).diskValuesFrom).toBe(1024);
    expect(loadConfig([...base, '--disk-values=false'], {}).diskValuesFrom).toBeNull();
    expect(loadConfig([...base, '--disk-values-from', '0'], {}).diskValuesFrom).toBe(0);
    expect(loadConfig(base, { RAFTKIT_DISK_VALUES: 'false' }).diskValuesFrom).toBeNull();
    expect(() => loadConfig([...base, '--disk-values-from', '-1'], {})).toThrow(/--disk-values-from must be an integer/);
    expect(existsSync(join(root, 'x'))).toBe(false);
  });
});
