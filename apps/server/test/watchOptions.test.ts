/**
 * The server's watch options, on one real single-node server: --watch-history N keeps the
 * changes of the last N revisions that changed something (an older fromRevision is
 * 410 KV_COMPACTED naming the oldest one kept, a kept one replays), and --watch-heartbeat-ms
 * sets the `: ping` interval of an idle stream. Bad values are refused at start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.js';
import { cleanEnv, fastTiming, freePorts, requireBuiltServer, ServerNode } from './helpers/cluster.js';
import { putJson } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';
import { SseStream } from './helpers/sseStream.js';

let root: string;
let node: ServerNode;

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-watch-options-'));
  const [port] = await freePorts(1);
  const args = ['--id', 'w1', '--listen', `127.0.0.1:${port}`, '--data', join(root, 'w1'), '--watch-history', '3', '--watch-heartbeat-ms', '200', ...fastTiming];
  node = new ServerNode('w1', port!, root, args, cleanEnv());
  node.start();
  await waitFor('w1 to lead', async () => (await node.status())?.role === 'leader');
});

afterAll(async () => {
  await node?.kill('SIGKILL');
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('watch options', () => {
  test('--watch-history 3: the last three changed revisions replay, an older start is 410 KV_COMPACTED', async () => {
    const revs: number[] = [];
    for (let i = 0; i < 5; i++) revs.push((await putJson(node.url, 'h/k', i)).json.revision as number);
    const old = await SseStream.open(`${node.url}/v1/watch?key=h/k&fromRevision=${revs[1]}`);
    expect(old).toMatchObject({ status: 410, json: { error: { code: 'KV_COMPACTED', oldestRevision: revs[2] } } });
    const kept = await SseStream.open(`${node.url}/v1/watch?key=h/k&fromRevision=${revs[2]}`);
    if (!(kept instanceof SseStream)) throw new Error(`expected a stream, got ${JSON.stringify(kept)}`);
    const frames = await kept.waitEvents(3);
    expect(frames.map((f) => JSON.parse(f.data).value)).toEqual([2, 3, 4]);
    await kept.close();
  });

  test('--watch-heartbeat-ms 200: an idle stream gets a ": ping" comment within a second', async () => {
    const s = await SseStream.open(`${node.url}/v1/watch?key=idle`);
    if (!(s instanceof SseStream)) throw new Error(`expected a stream, got ${JSON.stringify(s)}`);
    await waitFor('a ping', async () => s.frames.some((f) => f.comments.includes('ping')), { timeoutMs: 1_000 });
    await s.close();
  });

  test('bad values are refused with a message naming the option', () => {
    const base = ['--id', 'x', '--listen', '127.0.0.1:0', '--data', join(root, 'x')];
    expect(() => loadConfig([...base, '--watch-history', '-1'], {})).toThrow(/--watch-history must be an integer/);
    expect(() => loadConfig([...base, '--watch-heartbeat-ms', '5'], {})).toThrow(/--watch-heartbeat-ms must be an integer in \[100/);
    expect(loadConfig([...base, '--watch-history', '0'], {}).watchHistory).toBe(0);
  });
});
