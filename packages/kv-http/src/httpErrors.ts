import { ErrorCode, isNotLeaderError, isRaftError } from '@raftkit/core';
import { KvErrorCode, isKvError } from '@raftkit/kv';
import type { ServerResponse } from 'node:http';
import { sendJson } from './jsonResponse.js';

/** Codes of errors the server itself raises (the others come from core and kv). */
export const ServerErrorCode = {
  BadJson: 'SERVER_BAD_JSON',
  BodyTooLarge: 'SERVER_BODY_TOO_LARGE',
  NotFound: 'SERVER_NOT_FOUND',
  MethodNotAllowed: 'SERVER_METHOD_NOT_ALLOWED',
  BadRequest: 'SERVER_BAD_REQUEST',
  KeyNotFound: 'KV_NOT_FOUND',
  NoLeader: 'SERVER_NO_LEADER',
  /** Forward mode: the leader could not be reached; nothing was sent, so nothing applied. */
  ForwardFailed: 'SERVER_FORWARD_FAILED',
  /** Forward mode: the request reached the leader (at least partly) and no answer came back. */
  OutcomeUnknown: 'SERVER_OUTCOME_UNKNOWN',
  /** A request that was already forwarded once reached a node that is not the leader either. */
  ForwardLoop: 'SERVER_FORWARD_LOOP',
  RequestTimeout: 'SERVER_REQUEST_TIMEOUT',
  ShuttingDown: 'SERVER_SHUTTING_DOWN',
  Internal: 'SERVER_INTERNAL',
  /** DELETE /v1/members/{id} of a node that is not a member (already removed, or a typo). */
  MemberNotFound: 'SERVER_MEMBER_NOT_FOUND',
} as const;

const HTTP_ERROR_BRAND: unique symbol = Symbol.for('raftkit.kv-http.error') as never;

/** An error with its HTTP status and code; recognised by brand, so two copies of this package agree. */
export class HttpError extends Error {
  readonly [HTTP_ERROR_BRAND] = true;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Whether `err` is an `HttpError` (from any copy of this package). */
export function isHttpError(err: unknown): err is HttpError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[HTTP_ERROR_BRAND] === true;
}

const kvStatus: Record<string, number> = {
  [KvErrorCode.InvalidArgument]: 400,
  [KvErrorCode.SessionExpired]: 410,
  [KvErrorCode.SessionUnknown]: 410,
  [KvErrorCode.StaleSequence]: 409,
  [KvErrorCode.TooManyPending]: 429,
  [KvErrorCode.LeaseUnavailable]: 400,
  // The session already holds another operation's result under this seq: the client's mistake.
  [KvErrorCode.UnexpectedResult]: 409,
  [KvErrorCode.LeaseNotFound]: 404,
  [KvErrorCode.LeaseExists]: 409,
  // The watch's start is no longer in the history: resume from `oldestRevision` (or re-read).
  [KvErrorCode.Compacted]: 410,
  // Only ever inside a watch stream (`event: error`); resume from `lastRevision + 1`.
  [KvErrorCode.WatchOverflow]: 503,
};

/** What a KvError carries beside its code and message (KV_COMPACTED, KV_WATCH_OVERFLOW), for the JSON body. */
function kvExtra(err: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of ['oldestRevision', 'lastRevision']) {
    const v = (err as Record<string, unknown>)[f];
    if (typeof v === 'number') out[f] = v;
  }
  return out;
}

const raftStatus: Record<string, number> = {
  [ErrorCode.NotLeader]: 503,
  [ErrorCode.Timeout]: 504,
  [ErrorCode.ProposalDropped]: 503,
  [ErrorCode.OutcomeUnknown]: 504,
  [ErrorCode.Stopped]: 503,
  [ErrorCode.InvalidArgument]: 400,
  // Membership: nothing was changed; retry once the earlier change (or the catch-up) is done.
  [ErrorCode.MembershipChangeInProgress]: 409,
  [ErrorCode.LearnerBehind]: 409,
  // Nothing was appended; the new leader takes the request (Retry-After: 1).
  [ErrorCode.TransferInProgress]: 503,
  [ErrorCode.TransferAborted]: 503,
};

/** Maps any error to an HTTP status and a `{ error: { code, message } }` body. */
export function toHttpError(err: unknown): HttpError {
  if (isHttpError(err)) return err;
  if (isNotLeaderError(err)) return new HttpError(503, err.code, err.message, { leader: err.leaderHint });
  if (isKvError(err)) return new HttpError(kvStatus[err.code] ?? 500, err.code, err.message, kvExtra(err));
  if (isRaftError(err)) return new HttpError(raftStatus[err.code] ?? 500, err.code, err.message);
  return new HttpError(500, ServerErrorCode.Internal, 'internal error');
}

/** Answers `err` as its coded JSON error (503s with Retry-After: 1); ends a response already under way. */
export function sendError(res: ServerResponse, err: unknown): void {
  const e = toHttpError(err);
  if (res.headersSent) {
    res.end();
    return;
  }
  if (e.status === 503) res.setHeader('retry-after', '1');
  sendJson(res, e.status, { error: { code: e.code, message: e.message, ...e.extra } });
}
