import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '@raftkit/core';
import type { StreamingVerifier } from '../auth.js';
import { HttpErrorCode } from '../errors.js';
import { type Rejection, rejection } from './respond.js';

export type BodyResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly rejection: Rejection };

const badSignature = (): BodyResult => ({ ok: false, rejection: rejection(HttpErrorCode.Unauthorized, 'signature does not match') });
const cutShort = (): BodyResult => ({ ok: false, rejection: rejection(ErrorCode.BadMessage, 'request body was cut short') });
const stalled = (idleMs: number): BodyResult => ({
  ok: false,
  rejection: rejection(HttpErrorCode.BodyTimeout, `no body bytes for ${idleMs} ms`, { connection: 'close' }),
});

/**
 * Receives a body whose Content-Length (`declared`) was already judged acceptable, into one
 * buffer of exactly that size, feeding each chunk to the signature check as it arrives: no chunk
 * list, no concatenated copy. Calls `done` once, with the body only if the signature matches.
 * A body that stops arriving for `idleMs` is refused (408), so a trickling sender cannot hold a
 * body slot until Node's own `requestTimeout` (5 minutes) ends it.
 */
export function receiveBody(req: IncomingMessage, declared: number, verifier: StreamingVerifier, idleMs: number, done: (result: BodyResult) => void): void {
  // A body parser mounted before the router may have read it already.
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (Buffer.isBuffer(parsed)) {
    if (parsed.length !== declared) return done(cutShort());
    verifier.update(parsed);
    return done(verifier.matches() ? { ok: true, body: parsed } : badSignature());
  }
  let finished = false;
  const finish = (result: BodyResult): void => {
    if (finished) return;
    finished = true;
    clearTimeout(idle);
    done(result);
  };
  const idle = setTimeout(() => finish(stalled(idleMs)), idleMs);
  idle.unref();
  const body = Buffer.allocUnsafe(declared);
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    // Node's parser never delivers more than Content-Length; the check keeps the copy in bounds.
    if (finished || size + chunk.length > declared) return finish(cutShort());
    idle.refresh();
    chunk.copy(body, size);
    size += chunk.length;
    verifier.update(chunk);
  });
  req.on('end', () => {
    if (size !== declared) return finish(cutShort());
    finish(verifier.matches() ? { ok: true, body } : badSignature());
  });
  // The client went away mid-body: there is nobody to answer, but settle anyway.
  req.on('close', () => finish(cutShort()));
  req.on('error', () => undefined);
}
