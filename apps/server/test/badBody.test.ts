// Request bodies that trickle in are bounded by --request-timeout-ms (408 with a coded error, the
// connection closed), and the nesting-depth scan that guards the JSON parser is iterative and
// exact. The other body refusals (depth, empty, charset, UTF-8, base64) are cases of
// api.test.ts's bad-input table.
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { jsonDepthExceeds } from '@raftkit/kv-http/internal';
import { Cluster, type ServerNode } from './helpers/cluster.js';
import { getKey, putJson } from './helpers/http.js';

const TIMEOUT_MS = 1000;

interface RawReply {
  status: number;
  headers: string;
  body: string;
  /** The server closed the connection after answering. */
  closed: boolean;
  /** Milliseconds from the first byte sent to the answer. */
  afterMs: number;
}

/**
 * Sends the request head, then `chunks` one every `gapMs`, over a raw socket; resolves with the
 * answer once the server has answered and closed (or after `waitMs`, with whatever came).
 */
function trickle(node: ServerNode, head: string, chunks: string[], gapMs: number, waitMs: number): Promise<RawReply | null> {
  return new Promise((resolve) => {
    const started = Date.now();
    let data = '';
    let answeredAt = 0;
    const sock: Socket = connect(node.port, '127.0.0.1');
    const timers: NodeJS.Timeout[] = [];
    const done = (closed: boolean): void => {
      for (const t of timers) clearTimeout(t);
      sock.destroy();
      const m = /^HTTP\/1\.1 (\d+)[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(data);
      resolve(m ? { status: Number(m[1]), headers: m[2]!.toLowerCase(), body: m[3]!, closed, afterMs: answeredAt - started } : null);
    };
    sock.on('data', (d) => {
      if (!data) answeredAt = Date.now();
      data += d.toString('utf8');
    });
    sock.on('close', () => done(true));
    sock.on('error', () => undefined);
    sock.write(head);
    chunks.forEach((c, i) => timers.push(setTimeout(() => sock.writable && sock.write(c), gapMs * (i + 1))));
    timers.push(setTimeout(() => done(false), waitMs));
  });
}

const head = (key: string, type: string, length: number, extra = '') => `PUT /v1/kv/${key} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n${extra}\r\n`;

describe('a request body that trickles in', () => {
  let cluster: Cluster;
  let node: ServerNode;
  beforeAll(async () => {
    cluster = await Cluster.start({ size: 1, args: ['--request-timeout-ms', String(TIMEOUT_MS)] });
    node = cluster.nodes[0]!;
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') cluster?.printLogs();
  });
  afterAll(() => cluster?.stop());

  test.each([
    ['JSON', 'application/json', '"' + 'x'.repeat(40) + '"'],
    ['bytes', 'application/octet-stream', 'y'.repeat(42)],
  ])('%s, one byte every 100 ms, gets 408 SERVER_REQUEST_TIMEOUT once --request-timeout-ms passes, and the connection is closed', async (_what, type, body) => {
    const key = `bad/slow-${type.split('/')[1]}`;
    // 42 bytes at 10 a second would take 4.2 s: the deadline (1 s) cuts it off.
    const r = await trickle(node, head(key, type, body.length), [...body], 100, TIMEOUT_MS + 3000);
    if (!r) throw new Error(`no answer within ${TIMEOUT_MS + 3000} ms to a body trickled over 4.2 s (--request-timeout-ms ${TIMEOUT_MS})`);
    expect(r.status).toBe(408);
    expect(r.headers).toMatch(/^connection: close$/m);
    expect(JSON.parse(r.body).error.code).toBe('SERVER_REQUEST_TIMEOUT');
    expect(r.afterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(r.afterMs).toBeLessThan(TIMEOUT_MS + 1500);
    expect(r.closed).toBe(true);
    expect((await getKey(node.url, key)).status).toBe(404);
  });

  test('a body that arrives slowly but within the deadline is accepted', async () => {
    const body = '"on time"';
    // Three pieces 150 ms apart: complete after ~450 ms, within the 1 s deadline.
    const r = await trickle(node, head('slow/ok', 'application/json', body.length, 'connection: close\r\n'), [body.slice(0, 3), body.slice(3, 6), body.slice(6)], 150, 5000);
    expect(r?.status).toBe(200);
    const got = await getKey(node.url, 'slow/ok');
    expect(got.json).toMatchObject({ value: 'on time' });
  });

  test('afterwards the node serves writes as before', async () => {
    expect(node.running).toBe(true);
    expect((await putJson(node.url, 'after/slow', 1)).status).toBe(200);
    expect((await getKey(node.url, 'after/slow')).json).toMatchObject({ value: 1 });
  });
});

describe('the JSON nesting scan', () => {
  const bytes = (s: string) => new Uint8Array(Buffer.from(s));
  test('counts arrays and objects, not brackets inside strings or after escaped quotes', () => {
    expect(jsonDepthExceeds(bytes('[[1]]'), 2)).toBe(false);
    expect(jsonDepthExceeds(bytes('[[[1]]]'), 2)).toBe(true);
    expect(jsonDepthExceeds(bytes('{"a":{"b":[]}}'), 3)).toBe(false);
    expect(jsonDepthExceeds(bytes('{"a":{"b":[{}]}}'), 3)).toBe(true);
    expect(jsonDepthExceeds(bytes('["[[[[", "{{{{"]'), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes('["\\"[[[", 1]'), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes('["\\\\", [[1]]]'), 2)).toBe(true);
    // Siblings do not add up: depth is nesting, not the number of brackets.
    expect(jsonDepthExceeds(bytes('[' + '[],'.repeat(1000) + '[]]'), 2)).toBe(false);
  });

  test('a million levels take a scan, not a stack', () => {
    const deep = bytes('['.repeat(1_000_000) + ']'.repeat(1_000_000));
    expect(jsonDepthExceeds(deep, 65)).toBe(true);
    expect(jsonDepthExceeds(deep, 1_000_000)).toBe(false);
  });
});
