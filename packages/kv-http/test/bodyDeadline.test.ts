// The request-body deadline over a real socket: a trickled body gets 408 within the deadline plus
// one sweep period and its connection is closed; a body read by the fast reader, or by
// body-parser, is forgotten (so nothing is held or answered late); the sweep timer stops once
// nothing waits.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bodiesAwaited, sweepPeriodMs } from '../src/bodyDeadline.js';
import { bodyDeadline, bodyError, fastRawBody, inSeries, rawBody, sendError } from '../src/internal.js';

const TIMEOUT_MS = 300;

let server: http.Server;
let port = 0;

beforeAll(async () => {
  const app = express();
  app.put('/k', inSeries(bodyDeadline(TIMEOUT_MS), fastRawBody(64), rawBody(64)), (req, res) => {
    res.status(200).send(`got ${(req.body as Buffer).length}`);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, bodyError(err)));
  server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Sends `head`, then `body` one byte every `everyMs`; resolves with what came back and when. */
function trickle(head: string, body: string, everyMs: number): Promise<{ text: string; afterMs: number; closed: boolean }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let answeredAt = 0;
    let i = 0;
    const timer = setInterval(() => {
      if (i < body.length && !socket.destroyed) socket.write(body[i++]!);
    }, everyMs);
    socket.on('connect', () => socket.write(head));
    socket.on('data', (d) => {
      text += d.toString();
      answeredAt ||= Date.now();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text, afterMs: answeredAt - started, closed: true });
    });
  });
}

const head = (length: number, type = 'application/octet-stream') =>
  `PUT /k HTTP/1.1\r\nhost: x\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n\r\n`;

describe('the request-body deadline', () => {
  test('the sweep period is an eighth of the deadline, at most 250 ms, at least 1 ms', () => {
    expect(sweepPeriodMs(5000)).toBe(250);
    expect(sweepPeriodMs(800)).toBe(100);
    expect(sweepPeriodMs(1)).toBe(1);
  });

  test('a body trickled past the deadline gets 408 SERVER_REQUEST_TIMEOUT, and the connection is closed', async () => {
    const r = await trickle(head(40), 'y'.repeat(40), 50);
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.text).toMatch(/^connection: close\r$/im);
    expect(r.text).toContain('SERVER_REQUEST_TIMEOUT');
    expect(r.afterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    // The deadline plus one sweep period, plus slack for a busy machine.
    expect(r.afterMs).toBeLessThan(TIMEOUT_MS + sweepPeriodMs(TIMEOUT_MS) + 1000);
    expect(r.closed).toBe(true);
    expect(bodiesAwaited()).toBe(0);
  });

  test('a body within the deadline is served, and the fast reader forgets its request at once', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/k`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: 'abc' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('got 3');
    expect(bodiesAwaited()).toBe(0);
  });

  test('a body body-parser reads (no Content-Length) is forgotten by the next sweep, never answered late', async () => {
    const r = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('PUT /k HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(r).toMatch(/^HTTP\/1\.1 200 /);
    expect(r).toContain('got 3');
    const deadline = Date.now() + 2000;
    while (bodiesAwaited() > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    expect(bodiesAwaited()).toBe(0);
  });
});
