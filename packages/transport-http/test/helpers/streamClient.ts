import http from 'node:http';
import type { Message } from '@raftkit/core';
import { secretBytes } from '../../src/auth.js';
import { encodeMessages } from '../../src/index.js';
import { STREAM_CONTENT_TYPE, STREAM_PATH } from '../../src/protocol.js';
import { FrameKind, encodeFrame } from '../../src/stream/frames.js';
import { openStream } from '../../src/stream/streamAuth.js';
import { SECRET } from './net.js';

export interface RawStream {
  /** Status of the answer to the open. */
  readonly status: Promise<number>;
  /** The whole answer body, once the peer ended it (or the connection closed). */
  readonly answer: Promise<string>;
  /** The answer's headers. */
  readonly responseHeaders: Promise<http.IncomingHttpHeaders>;
  /** The answer's bytes so far. */
  body(): Buffer;
  /** The frame MAC key this open derived. */
  readonly key: Buffer;
  readonly headers: Record<string, string>;
  write(bytes: Uint8Array): void;
  /** Encodes messages as frame `counter` (correctly MAC'd) and writes it. */
  frame(counter: number, messages: readonly Message[], kind?: number): Buffer;
  end(): void;
  destroy(): void;
}

/** A stream opened by hand, as a peer would, so tests can write any bytes on it. */
export function rawStream(baseUrl: string, options: { from?: string; to?: string; headers?: Record<string, string> } = {}): RawStream {
  const open = openStream(secretBytes(SECRET), options.from ?? 'a', options.to ?? 'b', Date.now());
  const headers = { 'content-type': STREAM_CONTENT_TYPE, ...open.headers, ...options.headers };
  const req = http.request(`${baseUrl}${STREAM_PATH}`, { method: 'POST', headers, agent: false });
  let resolveStatus!: (status: number) => void;
  let resolveAnswer!: (body: string) => void;
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  let resolveHeaders!: (headers: http.IncomingHttpHeaders) => void;
  const responseHeaders = new Promise<http.IncomingHttpHeaders>((resolve) => (resolveHeaders = resolve));
  const answer = new Promise<string>((resolve) => (resolveAnswer = resolve));
  const chunks: Buffer[] = [];
  req.on('response', (res) => {
    resolveStatus(res.statusCode ?? 0);
    resolveHeaders(res.headers);
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolveAnswer(Buffer.concat(chunks).toString('utf8')));
    res.on('error', () => resolveAnswer(Buffer.concat(chunks).toString('utf8')));
  });
  req.on('error', () => {
    resolveStatus(0);
    resolveAnswer(Buffer.concat(chunks).toString('utf8'));
  });
  req.flushHeaders();
  const stream: RawStream = {
    status,
    answer,
    responseHeaders,
    body: () => Buffer.concat(chunks),
    key: open.key,
    headers,
    write: (bytes) => void req.write(bytes),
    frame: (counter, messages, kind = FrameKind.batch) => {
      const bytes = encodeFrame(open.key, counter, kind as FrameKind, encodeMessages(messages));
      req.write(bytes);
      return bytes;
    },
    end: () => void req.end(),
    destroy: () => void req.destroy(),
  };
  return stream;
}
