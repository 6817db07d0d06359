/**
 * The request-body deadline: once `timeoutMs` has passed and a request's body is still
 * incomplete, it is answered `408 SERVER_REQUEST_TIMEOUT` and its connection closed. Without
 * it a client trickling a byte a second holds a connection and a request slot indefinitely.
 *
 * One sweep timer for every waiting request, not a timer and three listeners per request:
 * those were about 2% of the leader's CPU under PUT c=64 (issue 11). A request is noted with
 * its due time; the fast body readers forget it as soon as its body is read (`bodyArrived`),
 * and a sweep every `timeoutMs / 8` (at most 250 ms) forgets requests that finished otherwise
 * and answers the late ones. A body is therefore cut off between `timeoutMs` and
 * `timeoutMs + timeoutMs / 8` (or + 250 ms) after its request arrived.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError, ServerErrorCode, sendError } from './httpErrors.js';

interface Waiter {
  readonly res: ServerResponse;
  readonly due: number;
  readonly timeoutMs: number;
}

/** Requests whose body is still arriving. Invariant: the sweep timer runs while it is not empty. */
const waiting = new Map<IncomingMessage, Waiter>();
let sweeper: NodeJS.Timeout | null = null;
let sweepEveryMs = Infinity;

/** The longest a late body is let run past its deadline. */
export function sweepPeriodMs(timeoutMs: number): number {
  return Math.max(1, Math.min(250, Math.ceil(timeoutMs / 8)));
}

/** Forgets `req`: its body has been read (the fast readers call this). */
export function bodyArrived(req: IncomingMessage): void {
  // The sweep stops its timer once it finds nothing waiting: stopping here would restart it
  // for every request of a client that sends one at a time.
  waiting.delete(req);
}

/** How many requests the deadline is watching (tests). */
export function bodiesAwaited(): number {
  return waiting.size;
}

function stopSweeping(): void {
  if (sweeper) clearInterval(sweeper);
  sweeper = null;
  sweepEveryMs = Infinity;
}

function sweep(): void {
  const now = Date.now();
  for (const [req, w] of waiting) {
    if (req.complete || req.destroyed || w.res.headersSent || w.res.destroyed) waiting.delete(req);
    else if (now >= w.due) {
      waiting.delete(req);
      expire(req, w);
    }
  }
  if (waiting.size === 0) stopSweeping();
}

function expire(req: IncomingMessage, w: Waiter): void {
  const { res } = w;
  res.setHeader('connection', 'close');
  // The parser is still waiting for the body: end the connection once the answer is out.
  res.once('finish', () => req.destroy());
  sendError(res, new HttpError(408, ServerErrorCode.RequestTimeout, `the request body did not arrive within ${w.timeoutMs} ms (--request-timeout-ms)`));
}

/** The middleware: bounds the time the request body may take to arrive (see the file's comment). */
export function bodyDeadline(timeoutMs: number): RequestHandler {
  const every = sweepPeriodMs(timeoutMs);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.complete) return next();
    waiting.set(req, { res, due: Date.now() + timeoutMs, timeoutMs });
    if (every < sweepEveryMs) {
      if (sweeper) clearInterval(sweeper);
      sweepEveryMs = every;
      // A waiting request keeps its socket, and so the process, alive; the timer need not.
      sweeper = setInterval(sweep, every).unref();
    }
    next();
  };
}
