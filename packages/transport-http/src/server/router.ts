import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, isRaftError } from '@raftkit/core';
import type { Message, NodeId, TransportHandler } from '@raftkit/core';
import { Router } from 'express';
import { type AuthClaim, readClaim, verifyClaim } from '../auth.js';
import { decodeBatch } from '../codec/batch.js';
import { HttpErrorCode } from '../errors.js';
import { BATCH_CONTENT_TYPE, MESSAGES_PATH } from '../protocol.js';
import type { StatsBook } from '../stats.js';
import { readBody } from './body.js';
import { type Rejection, rejection, sendError } from './respond.js';

/** What the router needs from its transport. */
export interface InboundContext {
  readonly id: NodeId;
  readonly secret: Buffer;
  readonly maxBodyBytes: number;
  readonly authWindowMs: number;
  readonly stats: StatsBook;
  isPeer(id: NodeId): boolean;
  /** The handler while started; null before start and after close, so nothing is delivered. */
  handler(): TransportHandler | null;
  onError(error: Error): void;
}

type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };
const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const refuse = (r: Rejection): Checked<never> => ({ ok: false, rejection: r });

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Everything that can be judged from the request line and headers, before reading the body. */
function checkHeaders(ctx: InboundContext, req: IncomingMessage): Checked<AuthClaim> {
  if (req.method !== 'POST') {
    return refuse(rejection(HttpErrorCode.MethodNotAllowed, `${req.method} is not allowed, use POST`, { allow: 'POST' }));
  }
  if (!ctx.handler()) return refuse(rejection(HttpErrorCode.Unavailable, `node ${ctx.id} is not accepting messages`));
  if (mediaType(req) !== BATCH_CONTENT_TYPE) {
    return refuse(rejection(HttpErrorCode.UnsupportedMediaType, `content-type must be ${BATCH_CONTENT_TYPE}`));
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    return refuse(rejection(HttpErrorCode.UnsupportedMediaType, `content-encoding ${encoding} is not supported`));
  }
  const claim = readClaim(req.headers, Date.now(), ctx.authWindowMs);
  return claim.ok ? ok(claim.claim) : refuse(rejection(HttpErrorCode.Unauthorized, claim.reason));
}

/** Authenticates the body, checks who it is from and for, and decodes it. */
function checkBody(ctx: InboundContext, claim: AuthClaim, body: Buffer): Checked<Message[]> {
  if (!verifyClaim(ctx.secret, claim, body)) return refuse(rejection(HttpErrorCode.Unauthorized, 'signature does not match'));
  if (claim.to !== ctx.id) return refuse(rejection(HttpErrorCode.WrongNode, `this is node ${ctx.id}, not ${claim.to}`));
  if (!ctx.isPeer(claim.from)) return refuse(rejection(HttpErrorCode.UnknownPeer, `${claim.from} is not a peer of ${ctx.id}`));
  let messages: Message[];
  try {
    messages = decodeBatch(body);
  } catch (err) {
    if (isRaftError(err, ErrorCode.BadMessage)) return refuse(rejection(ErrorCode.BadMessage, err.message));
    throw err;
  }
  // The signature vouches for the sender named in the headers, so each message must be its.
  const misdirected = messages.findIndex((m) => m.to !== ctx.id);
  if (misdirected >= 0) return refuse(rejection(HttpErrorCode.WrongNode, `message #${misdirected} is for ${messages[misdirected].to}, not ${ctx.id}`));
  const forged = messages.findIndex((m) => m.from !== claim.from);
  if (forged >= 0) return refuse(rejection(HttpErrorCode.UnknownPeer, `message #${forged} claims sender ${messages[forged].from}, the request is from ${claim.from}`));
  return ok(messages);
}

/** Hands every message to the core, in order; a throwing handler must not stop the rest. */
function deliver(ctx: InboundContext, handler: TransportHandler, messages: readonly Message[]): void {
  for (const message of messages) {
    try {
      handler.onMessage(message);
    } catch (err) {
      ctx.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

function accept(ctx: InboundContext, claim: AuthClaim, body: Buffer, res: ServerResponse): Rejection | null {
  const checked = checkBody(ctx, claim, body);
  if (!checked.ok) return checked.rejection;
  // Closed while the body was arriving: after close() nothing may be delivered.
  const handler = ctx.handler();
  if (!handler) return rejection(HttpErrorCode.Unavailable, `node ${ctx.id} closed`);
  const counters = ctx.stats.peer(claim.from);
  counters.received += checked.value.length;
  counters.bytesReceived += body.length;
  deliver(ctx, handler, checked.value);
  res.statusCode = 204;
  res.end();
  return null;
}

function handleMessages(ctx: InboundContext, req: IncomingMessage, res: ServerResponse): void {
  // No Date header: peers do not need it, and Node refreshes it with a 1 s timer that would
  // outlive close().
  res.sendDate = false;
  ctx.stats.inboundRequests += 1;
  const refuseWith = (r: Rejection): void => {
    ctx.stats.reject(r.code);
    sendError(res, r);
  };
  const headers = checkHeaders(ctx, req);
  if (!headers.ok) return refuseWith(headers.rejection);
  readBody(req, ctx.maxBodyBytes, (result) => {
    if (!result.ok) return refuseWith(result.rejection);
    let refused: Rejection | null;
    try {
      refused = accept(ctx, headers.value, result.body, res);
    } catch (err) {
      ctx.onError(err instanceof Error ? err : new Error(String(err)));
      refused = rejection(HttpErrorCode.Internal, 'internal error');
    }
    if (refused) refuseWith(refused);
  });
}

/** The express Router serving `POST /raft/v1/messages` for one transport. */
export function createRouter(ctx: InboundContext): Router {
  const router = Router();
  router.all(MESSAGES_PATH, (req, res) => handleMessages(ctx, req, res));
  return router;
}
