import { isNotLeaderError, type NotLeaderError } from '@raftkit/core';
import type { NextFunction, Request, Response } from 'express';
import { sendError } from './httpErrors.js';
import type { KvHttpMetrics } from './metrics.js';

export type RouteHandler = (req: Request, res: Response) => Promise<void>;

export interface RouteErrorHooks {
  /** A request refused during a leadership handover: carried to the new leader (true) or not. */
  onHandoff?(req: Request, res: Response, err: unknown): Promise<boolean>;
  /** "Not leader": redirected or forwarded (true), or answered as an error. */
  onNotLeader(req: Request, res: Response, err: NotLeaderError): Promise<boolean>;
}

/**
 * Wraps a route's handler: a thrown error is carried on (handover), sent to the leader (not
 * leader) or answered as the server's coded JSON error; every request is counted by route
 * and status.
 */
export function routeWrapper(metrics: KvHttpMetrics, hooks: RouteErrorHooks) {
  return (route: string, h: RouteHandler) =>
    async (req: Request, res: Response, _next: NextFunction): Promise<void> => {
      try {
        await h(req, res);
      } catch (err) {
        if (hooks.onHandoff && (await hooks.onHandoff(req, res, err))) return;
        if (isNotLeaderError(err) && (await hooks.onNotLeader(req, res, err))) return;
        sendError(res, err);
      } finally {
        metrics.countRequest(route, res.statusCode);
      }
    };
}
