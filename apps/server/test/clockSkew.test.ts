// Issue 9 item 12: a node whose clock is an hour off is refused by every peer (the ±60 s window
// of transport-http's signatures) and was cut off with nothing but a warning. Now the node logs
// an error naming the clock (once per 10 s, not every retry), counts it in
// raftkit_peer_errors_total, and is not ready; its peers log the skew they see.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ServerNode, cleanEnv, fastTiming, freePorts, requireBuiltServer } from './helpers/cluster.js';
import { putJson, send } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

let root: string;
let nodes: ServerNode[];

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-server-skew-'));
  // Preloaded into n3 only: its wall clock (Date.now, which signs peer requests) runs 1 h ahead.
  const ahead = join(root, 'clockAhead.mjs');
  writeFileSync(ahead, 'const now = Date.now.bind(Date);\nDate.now = () => now() + 3_600_000;\n');
  const ports = await freePorts(3);
  const ids = ['n1', 'n2', 'n3'];
  nodes = ids.map((id, i) => {
    const peers = ids.filter((p) => p !== id).map((p) => `${p}=http://127.0.0.1:${ports[ids.indexOf(p)]}`).join(',');
    const env = cleanEnv(id === 'n3' ? { NODE_OPTIONS: `--import=${ahead}` } : {});
    return new ServerNode(id, ports[i]!, root, ['--id', id, '--listen', `127.0.0.1:${ports[i]}`, '--peers', peers, '--data', join(root, id), ...fastTiming], env);
  });
  for (const n of nodes) n.start();
});

afterAll(async () => {
  await Promise.all((nodes ?? []).map((n) => n.kill('SIGKILL').catch(() => undefined)));
  if (root && !process.env['KEEP_TEST_DATA']) rmSync(root, { recursive: true, force: true });
});

const errorLines = (n: ServerNode): { msg: string; code?: string }[] =>
  readFileSync(n.logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; code?: string }).filter((l) => l.level >= 50);

describe('a node whose clock is an hour ahead', () => {
  test('is cut off, and says why: an error log line naming the clock, a metric, /readyz 503', async () => {
    const [n1, n2, n3] = nodes as [ServerNode, ServerNode, ServerNode];
    const started = Date.now();
    // The two good nodes form a majority and serve.
    const leader = await waitFor('a leader among n1 and n2', async () => {
      for (const n of [n1, n2]) if ((await n.status())?.role === 'leader') return n;
      return null;
    }, { timeoutMs: 20_000 });
    expect((await putJson(leader.url, 'k', 1)).status).toBe(200);

    const refused = await waitFor('n3 to log that its peers refuse it for its clock', () => errorLines(n3).find((l) => /timestamp is 3600 s from this node's clock/.test(l.msg)) ?? null);
    expect(refused.msg).toMatch(/^peer transport: peer n[12] refused \d+ messages/);
    const metrics = (await send(`${n3.url}/metrics`)).text;
    expect(metrics).toMatch(/^raftkit_peer_errors_total\{code="RAFT_HTTP_PEER_REJECTED[^"]*"\} [1-9]/m);
    // Its peers say so too, naming the clock (transport-http's RAFT_HTTP_CLOCK_SKEW report).
    const skew = await waitFor('n1 or n2 to log n3\'s clock skew', () => [n1, n2].flatMap(errorLines).find((l) => l.code === 'RAFT_HTTP_CLOCK_SKEW') ?? null);
    expect(skew.msg).toMatch(/^peer transport: refusing requests from peer n3: its clock is 3600 s off/);
    // Once per peer and problem every 10 s, however often the link retries (every heartbeat).
    // The leader is the one that keeps sending to n3 (a follower sends it nothing). Its link backs
    // off exponentially, up to 5 s between attempts: a few retries take ~10 s.
    await waitFor(`${leader.id} to have retried n3 several times`, async () => /^raftkit_peer_errors_total\{code="RAFT_HTTP_PEER_REJECTED[^"]*"\} ([3-9]|\d\d+)/m.test((await send(`${leader.url}/metrics`)).text), { timeoutMs: 40_000 });
    // (A loaded machine can stretch this test past one 10 s window, which allows one more line.)
    const lines = errorLines(leader).filter((l) => /^peer transport: peer n3 refused/.test(l.msg)).length;
    expect(lines).toBeGreaterThanOrEqual(1);
    expect(lines).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / 10_000));
    const ready = await send(`${n3.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await n3.status())?.leader).toBeNull();
  });
});
