import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { type AuthClaim, readClaim } from '../auth.js';
import { HttpErrorCode } from '../errors.js';
import { BATCH_CONTENT_TYPE, RaftHeaders } from '../protocol.js';
import type { InboundAlarms } from './alarms.js';
import { type Rejection, rejection } from './respond.js';

/** What the header checks need from the transport. */
export interface HeaderContext {
  readonly id: NodeId;
  readonly maxBodyBytes: number;
  readonly maxSnapshotBytes: number;
  readonly authWindowMs: number;
  readonly alarms: InboundAlarms;
  isPeer(id: NodeId): boolean;
  accepting(): boolean;
}

/** A request whose headers passed: who it claims to be from, and the body it announces. */
export interface Admitted {
  readonly claim: AuthClaim;
  /** Content-Length, at most the limit for this kind of request. */
  readonly declared: number;
  /** Marked as carrying one snapshot chunk (the larger limit applies). */
  readonly snapshot: boolean;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };
export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
export const refuse = (r: Rejection): Checked<never> => ({ ok: false, rejection: r });

const DIGITS = /^[0-9]{1,16}$/;

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function checkFormat(ctx: HeaderContext, req: IncomingMessage): Rejection | null {
  if (req.method !== 'POST') return rejection(HttpErrorCode.MethodNotAllowed, `${req.method} is not allowed, use POST`, { allow: 'POST' });
  if (!ctx.accepting()) return rejection(HttpErrorCode.Unavailable, `node ${ctx.id} is not accepting messages`);
  if (mediaType(req) !== BATCH_CONTENT_TYPE) return rejection(HttpErrorCode.UnsupportedMediaType, `content-type must be ${BATCH_CONTENT_TYPE}`);
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    return rejection(HttpErrorCode.UnsupportedMediaType, `content-encoding ${encoding} is not supported`);
  }
  return null;
}

/** Authentication headers, the timestamp window, and who the request is from and for. */
export function checkClaim(ctx: HeaderContext, req: IncomingMessage): Checked<AuthClaim> {
  const claim = readClaim(req.headers, Date.now(), ctx.authWindowMs);
  if (!claim.ok) {
    if (claim.skewMs !== undefined && claim.from !== undefined && ctx.isPeer(claim.from)) ctx.alarms.clockSkew(claim.from, claim.skewMs, claim.reason);
    return refuse(rejection(HttpErrorCode.Unauthorized, claim.reason));
  }
  const { from, to } = claim.claim;
  if (to !== ctx.id) return refuse(rejection(HttpErrorCode.WrongNode, `this is node ${ctx.id}, not ${to}`));
  if (!ctx.isPeer(from)) return refuse(rejection(HttpErrorCode.UnknownPeer, `${from} is not a peer of ${ctx.id}`));
  return ok(claim.claim);
}

/** The announced size against the limit of its kind; a body of unknown size is not read. */
function checkSize(ctx: HeaderContext, req: IncomingMessage): Checked<{ declared: number; snapshot: boolean }> {
  const marker = req.headers[RaftHeaders.snapshot];
  if (marker !== undefined && marker !== '1') return refuse(rejection(ErrorCode.BadMessage, `${RaftHeaders.snapshot} must be 1 when present`));
  const snapshot = marker === '1';
  const length = req.headers['content-length'];
  if (length === undefined || !DIGITS.test(length)) {
    return refuse(rejection(HttpErrorCode.LengthRequired, 'a Content-Length header is required (the size is judged before the body is read)'));
  }
  const declared = Number(length);
  const limit = snapshot ? ctx.maxSnapshotBytes : ctx.maxBodyBytes;
  if (declared > limit) {
    const which = snapshot ? 'snapshot chunk request body' : 'request body';
    return refuse(rejection(HttpErrorCode.BodyTooLarge, `${which} of ${declared} bytes exceeds the limit of ${limit} bytes`));
  }
  return ok({ declared, snapshot });
}

/**
 * Everything that can be judged from the request line and headers, cheapest first, before a
 * byte of the body is read: a refused request costs the server no memory.
 */
export function checkHeaders(ctx: HeaderContext, req: IncomingMessage): Checked<Admitted> {
  const format = checkFormat(ctx, req);
  if (format) return refuse(format);
  const claim = checkClaim(ctx, req);
  if (!claim.ok) return claim;
  const size = checkSize(ctx, req);
  if (!size.ok) return size;
  return ok({ claim: claim.value, ...size.value });
}
