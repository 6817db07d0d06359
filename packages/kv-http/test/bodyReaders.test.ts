// The PUT route's body readers: the fast raw reader takes exactly what body-parser's raw reader
// would have produced for a plain body, and leaves every other request (JSON types, encoded
// bodies, bodies over the limit, no Content-Length) to body-parser, which still handles them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fastRawBody, inSeries, rawBody } from '../src/internal.js';

const LIMIT = 64;

/** What the route saw: who read the body, and the bytes it got. */
interface Seen {
  reader: 'fast' | 'body-parser' | 'none';
  bytes: string;
}

let server: http.Server;
let base: string;
/** Each request's outcome, by the x-test header it carries. */
const seen = new Map<string, Seen | { error: string }>();

beforeAll(async () => {
  const app = express();
  const fast = fastRawBody(LIMIT);
  // Records which reader took the body: the fast one leaves req.body set before the next runs.
  const tagFast = (req: Request, _res: Response, next: NextFunction): void => {
    if (Buffer.isBuffer(req.body)) (req as { viaFast?: boolean }).viaFast = true;
    next();
  };
  app.put('/k', inSeries(fast, tagFast, rawBody(LIMIT)), (req, res) => {
    const body = req.body as unknown;
    const reader = (req as { viaFast?: boolean }).viaFast ? 'fast' : Buffer.isBuffer(body) ? 'body-parser' : 'none';
    seen.set(req.get('x-test')!, { reader, bytes: Buffer.isBuffer(body) ? body.toString('hex') : '' });
    res.status(200).end();
  });
  app.use((err: { message?: string; status?: number }, req: Request, res: Response, _next: NextFunction) => {
    seen.set(req.get('x-test')!, { error: err.message ?? String(err) });
    res.status(err.status ?? 400).end();
  });
  server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function put(test: string, body: Uint8Array, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${base}/k`, { method: 'PUT', headers: { 'x-test': test, ...headers }, body });
  await res.arrayBuffer();
  return res.status;
}

describe('the fast raw body reader', () => {
  test('takes plain bodies of any non-JSON type (or none) and yields the same bytes body-parser would', async () => {
    const cases: [string, Record<string, string>][] = [
      ['octet', { 'content-type': 'application/octet-stream' }],
      ['text', { 'content-type': 'text/plain; charset=latin1' }],
      ['form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [name, headers] of cases) {
      for (const size of [0, 1, 17, LIMIT]) {
        const bytes = new Uint8Array(Array.from({ length: size }, (_, i) => (i * 37 + size) & 0xff));
        expect(await put(`${name}-${size}`, bytes, headers)).toBe(200);
        expect(seen.get(`${name}-${size}`)).toEqual({ reader: 'fast', bytes: Buffer.from(bytes).toString('hex') });
      }
    }
  });

  test('a request without Content-Type is read too (fetch sends none for a bare Uint8Array)', async () => {
    expect(await put('untyped', new Uint8Array([1, 2, 3]), {})).toBe(200);
    expect(seen.get('untyped')).toEqual({ reader: 'fast', bytes: '010203' });
  });

  test('leaves JSON types, encoded bodies and bodies over the limit to body-parser', async () => {
    expect(await put('json', Buffer.from('"x"'), { 'content-type': 'application/json' })).toBe(200);
    expect(seen.get('json')).toMatchObject({ reader: 'body-parser' });
    expect(await put('json-suffix', Buffer.from('{}'), { 'content-type': 'application/merge-patch+json' })).toBe(200);
    expect(seen.get('json-suffix')).toMatchObject({ reader: 'body-parser' });
    // body-parser inflates: the route sees the original bytes, not the gzip stream.
    expect(await put('gzip', gzipSync(Buffer.from('hello')), { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' })).toBe(200);
    expect(seen.get('gzip')).toEqual({ reader: 'body-parser', bytes: Buffer.from('hello').toString('hex') });
    expect(await put('big', new Uint8Array(LIMIT + 1), { 'content-type': 'application/octet-stream' })).toBe(413);
    expect(seen.get('big')).toMatchObject({ error: expect.stringMatching(/too large/) });
  });

  test('a client that goes away mid-body is an error, never a short body', async () => {
    const aborted = new Promise<void>((resolve) => {
      const sock = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
        sock.write('PUT /k HTTP/1.1\r\nhost: x\r\nx-test: aborted\r\ncontent-type: application/octet-stream\r\ncontent-length: 10\r\n\r\nabc');
        setTimeout(() => sock.destroy(), 50);
      });
      sock.on('close', () => resolve());
      sock.on('error', () => undefined);
    });
    await aborted;
    await expect.poll(() => seen.get('aborted'), { timeout: 2000 }).toEqual({ error: 'request aborted' });
  });
});
