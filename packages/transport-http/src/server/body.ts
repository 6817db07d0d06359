import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '@raftkit/core';
import { HttpErrorCode } from '../errors.js';
import { type Rejection, rejection } from './respond.js';

export type BodyResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly rejection: Rejection };

function tooLarge(limit: number): BodyResult {
  return { ok: false, rejection: rejection(HttpErrorCode.BodyTooLarge, `request body exceeds the limit of ${limit} bytes`) };
}

/**
 * Reads the request body up to `limit` bytes and calls `done` once. An oversized body is refused
 * as soon as that is known (from Content-Length, or while streaming); Node then discards the
 * rest, so the client still reads the 413 and the keep-alive connection survives. Node's own
 * `requestTimeout` bounds how long a sender can keep streaming.
 */
export function readBody(req: IncomingMessage, limit: number, done: (result: BodyResult) => void): void {
  // A body parser mounted before the router may have read it already.
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (Buffer.isBuffer(parsed)) return done(parsed.length > limit ? tooLarge(limit) : { ok: true, body: parsed });
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return done(tooLarge(limit));
  let finished = false;
  const finish = (result: BodyResult): void => {
    if (finished) return;
    finished = true;
    done(result);
  };
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > limit) return finish(tooLarge(limit));
    chunks.push(chunk);
  });
  req.on('end', () => finish({ ok: true, body: Buffer.concat(chunks, size) }));
  // The client went away mid-body: there is nobody to answer, but settle anyway.
  req.on('close', () => finish({ ok: false, rejection: rejection(ErrorCode.BadMessage, 'request body was cut short') }));
  req.on('error', () => undefined);
}
