/**
 * Reading client request bodies: body-parser does the reading (limit, Content-Encoding); what it
 * accepts too readily is refused here, each with a coded error: an empty JSON body (body-parser
 * turns it into `{}`), a charset other than UTF-8 (it would transcode UTF-16 and friends), bytes
 * that are not UTF-8 (it would store U+FFFD), nesting deep enough to overflow a recursive walk,
 * and a body that trickles in for longer than the request deadline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { bodyArrived } from './bodyDeadline.js';
import { HttpError, ServerErrorCode, isHttpError } from './httpErrors.js';

/**
 * The deepest nesting a JSON body may have: a value may nest 64 levels (@raftkit/kv's limit,
 * checked there), a CAS body wraps it in one more object.
 */
export const MAX_BODY_DEPTH = 65;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * How deeply `buf` (JSON text, UTF-8) nests arrays and objects, stopping once past `limit`.
 * A loop over the bytes, never recursion: a body nested 100,000 deep costs a scan, not a stack.
 * (In UTF-8 no byte of a multi-byte character is ASCII, so brackets inside strings are only
 * skipped by the string tracking.)
 */
export function jsonDepthExceeds(buf: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** body-parser's `verify` hook: runs on the raw bytes before they are decoded and parsed. */
function verifyJson(_req: IncomingMessage, _res: ServerResponse, buf: Buffer, encoding: string | null): void {
  const charset = (encoding ?? 'utf-8').toLowerCase();
  if (charset !== 'utf-8' && charset !== 'utf8') {
    // RFC 8259 §8.1: JSON exchanged between systems is UTF-8.
    throw new HttpError(415, ServerErrorCode.BadRequest, `unsupported charset "${charset}": send JSON as UTF-8`);
  }
  if (buf.length === 0) throw new HttpError(400, ServerErrorCode.BadJson, 'malformed JSON: the body is empty');
  try {
    utf8.decode(buf);
  } catch {
    throw new HttpError(400, ServerErrorCode.BadJson, 'malformed JSON: the body is not valid UTF-8');
  }
  if (jsonDepthExceeds(buf, MAX_BODY_DEPTH)) {
    throw new HttpError(400, 'KV_INVALID_ARGUMENT', `JSON nests deeper than ${MAX_BODY_DEPTH - 1} levels`);
  }
}

const DIGITS = /^[0-9]{1,15}$/;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * Whether `req` is the common case the fast reader takes: `Content-Type: application/json`
 * exactly (no parameters), no Content-Encoding, a Content-Length within `limit`. Anything else
 * goes to body-parser, which keeps every other rule (charsets, inflating, 413 before reading).
 */
function plainJson(req: Request, limit: number): boolean {
  const h = req.headers;
  const type = h['content-type'];
  if (type === undefined || type.length !== 16 || type.toLowerCase() !== 'application/json') return false;
  if (h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined) return false;
  const length = h['content-length'];
  return length !== undefined && DIGITS.test(length) && Number(length) <= limit;
}

/** JSON.parse of a verified body, as body-parser does it: a leading BOM skipped, errors coded. */
function parseJson(buf: Buffer): unknown {
  const bom = buf.length >= 3 && buf[0] === UTF8_BOM[0] && buf[1] === UTF8_BOM[1] && buf[2] === UTF8_BOM[2];
  try {
    return JSON.parse(buf.toString('utf8', bom ? 3 : 0));
  } catch (err) {
    throw new HttpError(400, ServerErrorCode.BadJson, `malformed JSON: ${(err as Error).message}`);
  }
}

/**
 * Whether `req` is a plain raw body the fast reader takes: a Content-Type that names no JSON
 * (or none at all), no Content-Encoding (body-parser inflates gzip and deflate), a
 * Content-Length within `limit`. A JSON type, whatever its parameters, goes to `jsonBody`.
 */
function plainRaw(req: Request, limit: number): boolean {
  const h = req.headers;
  const type = h['content-type'];
  if (type !== undefined && /json/i.test(type)) return false;
  if (h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined) return false;
  const length = h['content-length'];
  return length !== undefined && DIGITS.test(length) && Number(length) <= limit;
}

/**
 * Reads exactly the declared Content-Length of `req`, then `done(body)`; `fail` on a body that
 * is longer or shorter than declared, or a client that went away mid-body (raw-body's
 * "request aborted": nobody is left to answer). Either is called once.
 */
function readDeclared(req: Request, done: (body: Buffer) => void, fail: (err: unknown) => void): void {
  const declared = Number(req.headers['content-length']);
  const body = Buffer.allocUnsafe(declared);
  let size = 0;
  let settled = false;
  const failOnce = (err: unknown): void => {
    if (settled) return;
    settled = true;
    fail(err);
  };
  req.on('data', (chunk: Buffer) => {
    // Node's parser never delivers more than Content-Length; the check keeps the copy in bounds.
    if (size + chunk.length > declared) return failOnce(new HttpError(400, ServerErrorCode.BadRequest, 'request body longer than its Content-Length'));
    chunk.copy(body, size);
    size += chunk.length;
  });
  req.once('end', () => {
    if (settled) return;
    if (size !== declared) return failOnce(new HttpError(400, ServerErrorCode.BadRequest, 'request body shorter than its Content-Length'));
    settled = true;
    done(body);
  });
  // (Node emits 'close' after 'end' too: build the error only when it is needed.)
  req.once('close', () => {
    if (!settled) failOnce(new HttpError(400, ServerErrorCode.BadRequest, 'request aborted'));
  });
}

/** Marks `req` read, so a body-parser mounted after the fast reader skips it. */
function markRead(req: Request): void {
  // body-parser 1 (express 4) skips a request marked read; body-parser 2 sees it finished.
  (req as { _body?: boolean })._body = true;
  bodyArrived(req);
}

/**
 * The hot routes' JSON reader: for a plain JSON body (see `plainJson`) it reads the declared
 * bytes, runs the same checks as `verifyJson` and parses, without body-parser's per-request
 * machinery (type-is, content-type parsing, raw-body, on-finished, iconv). Every other request
 * passes untouched to `jsonBody`/`rawBody`, mounted after it. Once the body has been read,
 * the request is finished (and marked `_body`), so those parsers skip it.
 */
export function fastJsonBody(limit: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!plainJson(req, limit)) return next();
    readDeclared(req, (body) => {
      try {
        verifyJson(req, res, body, 'utf-8');
        req.body = parseJson(body);
        markRead(req);
      } catch (err) {
        return next(err);
      }
      next();
    }, next);
  };
}

/**
 * The PUT route's raw reader, `fastJsonBody`'s twin for bytes (`application/octet-stream`, or
 * any type that is not JSON): `req.body` becomes the declared bytes, as `rawBody` would make
 * it. A request it does not take (see `plainRaw`) passes untouched to the parsers after it.
 */
export function fastRawBody(limit: number): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!plainRaw(req, limit)) return next();
    readDeclared(req, (body) => {
      req.body = body;
      markRead(req);
      next();
    }, next);
  };
}

/** JSON bodies (application/json, application/*+json), any JSON value at the top level. */
export function jsonBody(limit: number): RequestHandler {
  return express.json({ strict: false, limit, type: ['application/json', 'application/*+json'], verify: verifyJson });
}

/** Any other content type, as raw bytes. */
export function rawBody(limit: number): RequestHandler {
  return express.raw({ type: () => true, limit });
}

/** Maps body-parser's errors to coded ones; our own HttpErrors (from `verifyJson`) pass. */
export function bodyError(err: unknown): unknown {
  if (isHttpError(err)) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return new HttpError(413, ServerErrorCode.BodyTooLarge, 'request body too large');
  if (e?.type === 'entity.parse.failed') return new HttpError(400, ServerErrorCode.BadJson, `malformed JSON: ${e.message ?? ''}`);
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new HttpError(e.status, ServerErrorCode.BadRequest, e.message ?? 'bad request');
  return err;
}

/**
 * Runs `handlers` one after another as one middleware, stopping at the first error: the body
 * readers of a route as a single layer, so express walks one layer per request instead of
 * four (its per-layer dispatch was a measurable share of a PUT, issue 11).
 */
export function inSeries(...handlers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null) return next(err);
      const h = handlers[i++];
      if (!h) return next();
      void h(req, res, step);
    };
    step();
  };
}
