import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, isRaftError } from '@raftkit/core';
import type { Message, TransportHandler } from '@raftkit/core';
import { startVerify } from '../auth.js';
import { decodeOwnedBatch } from '../codec/batch.js';
import { HttpErrorCode } from '../errors.js';
import { MESSAGES_PATH, RaftHeaders, STREAM_PATH } from '../protocol.js';
import { handleStream } from '../stream/inbound.js';
import type { StatsBook } from '../stats.js';
import { receiveBody } from './body.js';
import type { BodyGate } from './bodyGate.js';
import { type Admitted, type Checked, type HeaderContext, checkHeaders, ok, refuse } from './headerChecks.js';
import { type Rejection, rejection, sendError } from './respond.js';
import type { InboundStreams } from '../stream/inbound.js';
import type { NonceBook } from '../stream/streamAuth.js';

/** What the router needs from its transport. */
export interface InboundContext extends HeaderContext {
  readonly secret: Buffer;
  readonly stats: StatsBook;
  readonly gate: BodyGate;
  /** An admitted body that stops arriving for this long is refused (408). */
  readonly bodyIdleMs: number;
  /** The streams peers have open to this node (option `stream` on their side), one per peer. */
  readonly streams: InboundStreams;
  readonly nonces: NonceBook;
  /** The handler while started; null before start and after close, so nothing is delivered. */
  handler(): TransportHandler | null;
  onError(error: Error): void;
}

/** Checks who each (authenticated) message is from and for, and decodes the body. */
export function checkBody(ctx: InboundContext, admitted: Admitted, body: Buffer): Checked<Message[]> {
  let messages: Message[];
  try {
    messages = decodeOwnedBatch(body);
  } catch (err) {
    if (isRaftError(err, ErrorCode.BadMessage)) return refuse(rejection(ErrorCode.BadMessage, err.message));
    throw err;
  }
  // The signature vouches for the sender named in the headers, so each message must be its.
  const misdirected = messages.findIndex((m) => m.to !== ctx.id);
  if (misdirected >= 0) return refuse(rejection(HttpErrorCode.WrongNode, `message #${misdirected} is for ${messages[misdirected].to}, not ${ctx.id}`));
  const { from } = admitted.claim;
  const forged = messages.findIndex((m) => m.from !== from);
  if (forged >= 0) return refuse(rejection(HttpErrorCode.UnknownPeer, `message #${forged} claims sender ${messages[forged].from}, the request is from ${from}`));
  // The larger snapshot limit is for one snapshot chunk, not for anything sent under its marker.
  if (admitted.snapshot && (messages.length !== 1 || messages[0].type !== 'snapshotChunk')) {
    return refuse(rejection(ErrorCode.BadMessage, `a request marked ${RaftHeaders.snapshot} must carry exactly one snapshotChunk message`));
  }
  return ok(messages);
}

/** Hands every message to the core, in order; a throwing handler must not stop the rest. */
export function deliver(ctx: InboundContext, handler: TransportHandler, messages: readonly Message[]): void {
  for (const message of messages) {
    try {
      handler.onMessage(message);
    } catch (err) {
      ctx.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

function accept(ctx: InboundContext, admitted: Admitted, body: Buffer, res: ServerResponse): Rejection | null {
  const checked = checkBody(ctx, admitted, body);
  if (!checked.ok) return checked.rejection;
  // Closed while the body was arriving: after close() nothing may be delivered.
  const handler = ctx.handler();
  if (!handler) return rejection(HttpErrorCode.Unavailable, `node ${ctx.id} closed`);
  // A request from a peer ends its stream: nothing sent before it may be delivered after it.
  ctx.streams.supersede(admitted.claim.from);
  const counters = ctx.stats.peer(admitted.claim.from);
  counters.received += checked.value.length;
  counters.bytesReceived += body.length;
  deliver(ctx, handler, checked.value);
  res.statusCode = 204;
  res.end();
  return null;
}

/**
 * Lets the client send its body. Node answers `Expect: 100-continue` itself unless the server
 * has a `checkContinue` listener (the standalone server does, so that a refusal goes out before
 * any body is sent); `_sent100` tells which happened.
 */
function allowBody(req: IncomingMessage, res: ServerResponse): void {
  const expects = req.headers.expect?.toLowerCase() === '100-continue';
  if (expects && !(res as ServerResponse & { _sent100?: boolean })._sent100) res.writeContinue();
}

/** Receives an admitted body (holding a gate slot until the answer is done), then accepts it. */
function receive(ctx: InboundContext, req: IncomingMessage, res: ServerResponse, admitted: Admitted, refuseWith: (r: Rejection) => void): void {
  const release = ctx.gate.enter(admitted.declared, admitted.snapshot);
  if (!release) {
    const busy = `already receiving the most large bodies at once (maxConcurrentBodies); retry later`;
    return refuseWith(rejection(HttpErrorCode.Busy, busy, { 'retry-after': '1', connection: 'close' }));
  }
  res.once('close', release);
  allowBody(req, res);
  receiveBody(req, admitted.declared, startVerify(ctx.secret, admitted.claim), ctx.bodyIdleMs, (result) => {
    if (!result.ok) {
      if (result.rejection.code === HttpErrorCode.Unauthorized) ctx.alarms.badSignature(admitted.claim.from);
      return refuseWith(result.rejection);
    }
    let refused: Rejection | null;
    try {
      refused = accept(ctx, admitted, result.body, res);
    } catch (err) {
      ctx.onError(err instanceof Error ? err : new Error(String(err)));
      refused = rejection(HttpErrorCode.Internal, 'internal error');
    }
    if (refused) refuseWith(refused);
  });
}

/** Serves one request for the messages endpoint; the same for the express router and the raw handler. */
export function handleMessages(ctx: InboundContext, req: IncomingMessage, res: ServerResponse): void {
  // No Date header: peers do not need it, and Node refreshes it with a 1 s timer that would
  // outlive close().
  res.sendDate = false;
  ctx.stats.inboundRequests += 1;
  const refuseWith = (r: Rejection): void => {
    ctx.stats.reject(r.code);
    sendError(res, r);
  };
  const headers = checkHeaders(ctx, req);
  // Refused unread: closing the connection stops Node from reading (and discarding) the body.
  if (!headers.ok) return refuseWith({ ...headers.rejection, headers: { ...headers.rejection.headers, connection: 'close' } });
  receive(ctx, req, res, headers.value, refuseWith);
}

/**
 * A connect/express-compatible middleware: serves the messages endpoint relative to where it is
 * mounted and calls `next()` for everything else. Needs no express types.
 */
export type RaftMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Whether a raw request is for the messages endpoint at the server's root: the path exactly
 * (any query string). The fast path of `handleRequest`; the middleware also takes a trailing
 * slash and any letter case, as express routing does.
 */
export function isMessagesRequest(req: IncomingMessage): boolean {
  return isExactly(req.url ?? '', MESSAGES_PATH);
}

/** Likewise for the stream endpoint (`/raft/v1/stream`, any query string). */
export function isStreamRequest(req: IncomingMessage): boolean {
  return isExactly(req.url ?? '', STREAM_PATH);
}

function isExactly(url: string, path: string): boolean {
  if (!url.startsWith(path)) return false;
  return url.length === path.length || url.charCodeAt(path.length) === 0x3f; // '?'
}

/**
 * Whether `url` (relative to the mount point, as express gives it) names the messages endpoint
 * the way express's `router.all(MESSAGES_PATH)` matched: any letter case, an optional trailing
 * slash, any query string.
 */
export function matchesMessagesPath(url: string): boolean {
  return matchesPath(url, MESSAGES_PATH);
}

function matchesPath(url: string, route: string): boolean {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).toLowerCase();
  return path === route || path === `${route}/`;
}

/** The middleware serving `POST /raft/v1/messages` and `POST /raft/v1/stream` for one transport. */
export function createMiddleware(ctx: InboundContext): RaftMiddleware {
  return (req, res, next) => {
    const url = req.url ?? '';
    const stream = matchesPath(url, STREAM_PATH);
    if (!stream && !matchesMessagesPath(url)) return next();
    try {
      if (stream) handleStream(ctx, req, res);
      else handleMessages(ctx, req, res);
    } catch (err) {
      next(err);
    }
  };
}
