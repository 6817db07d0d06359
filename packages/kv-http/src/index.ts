/**
 * @raftkit/kv-http: the raftkit KV HTTP API (`/v1/kv`) as one middleware to mount in an
 * express 4 or 5 app. See README.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KvClient } from '@raftkit/kv';
import express from 'express';
import { notLeaderHandler } from './forward.js';
import { mountKvRoutes, type KvRouteDeps } from './kvRoutes.js';
import { mountLeaseRoutes } from './leaseRoutes.js';
import { mountSessionRoutes } from './sessionRoutes.js';
import { mountTxnRoutes } from './txnRoutes.js';
import { mountWatchRoutes } from './watchRoutes.js';
import { noMetrics, type KvHttpMetrics } from './metrics.js';

export { HttpError, ServerErrorCode, isHttpError, sendError, toHttpError } from './httpErrors.js';
export { sendJson } from './jsonResponse.js';
export { FORWARDED_BY_HEADER } from './forward.js';
export { expressServerClasses, type ExpressAppPrototypes, type ExpressServerClasses } from './serverClasses.js';
export type { KvHttpMetrics } from './metrics.js';

/** A connect-style middleware: what `app.use()` takes, in express 4 and 5. */
export type KvRequestHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export interface KvRouterOptions {
  /** The client the routes serve through (`new KvClient(replica, ...)` from @raftkit/kv). */
  readonly client: KvClient;
  /** This node's id: compared with the leader hint, and sent in x-raftkit-forwarded-by. */
  readonly selfId: string;
  /** Where clients reach node `id` (its base URL, no trailing slash); null if unknown. */
  clientUrlOf(id: string): string | null;
  /** What a follower does with a write or linearizable read: forward it to the leader (default) or answer 307. */
  readonly notLeader?: 'forward' | 'redirect';
  /** The largest value accepted, in bytes (413 above it). Default 1 MiB. */
  readonly maxValueBytes?: number;
  /** How long a request body may take to arrive before a 408. Default 5000 ms. */
  readonly requestTimeoutMs?: number;
  /** How long a forwarded request waits for the leader's answer. Default requestTimeoutMs + 1000. */
  readonly forwardTimeoutMs?: number;
  /** CA to verify an https leader against when forwarding. */
  readonly ca?: Buffer;
  /** Counters to report to; none by default. */
  readonly metrics?: KvHttpMetrics;
  /** Interval of the `: ping` comments on an idle watch stream (GET /v1/watch). Default 15000 ms. */
  readonly watchHeartbeatMs?: number;
  /** Carries a write refused during a leadership handover to the new leader; resolve false if it cannot. */
  onHandoff?(req: IncomingMessage, res: ServerResponse, err: unknown): Promise<boolean>;
}

/**
 * The KV API under `/v1/kv` (GET/PUT/DELETE `/v1/kv/{key}`, POST `/v1/kv/{key}/cas`, GET
 * `/v1/kv?prefix=`), `POST /v1/sessions`, `POST /v1/txn`, `/v1/leases` and `GET /v1/watch` (Server-Sent Events), as a middleware for `app.use(router)`: coded JSON errors, idempotent
 * writes (x-raftkit-client-id / x-raftkit-seq / x-raftkit-first-outstanding), and a
 * follower's requests forwarded to (or redirected at) the leader. Uses the app's own express.
 */
export function createKvRouter(options: KvRouterOptions): KvRequestHandler {
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const router = express.Router();
  const onNotLeader = notLeaderHandler({
    selfId: options.selfId,
    followerMode: options.notLeader ?? 'forward',
    clientUrlOf: (id) => options.clientUrlOf(id),
    timeoutMs: options.forwardTimeoutMs ?? requestTimeoutMs + 1000,
    ...(options.ca ? { ca: options.ca } : {}),
  });
  const handoff = options.onHandoff;
  const deps: KvRouteDeps = {
    client: options.client,
    metrics: options.metrics ?? noMetrics,
    maxValueBytes: options.maxValueBytes ?? 1024 * 1024,
    requestTimeoutMs,
    onNotLeader,
    onHandoff: handoff ? (req, res, err) => handoff(req, res, err) : async () => false,
  };
  const heartbeatMs = options.watchHeartbeatMs ?? 15_000;
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 1) throw new TypeError(`watchHeartbeatMs must be a positive integer, got ${heartbeatMs}`);
  const shortcut = mountKvRoutes(router, deps);
  mountSessionRoutes(router, deps);
  mountTxnRoutes(router, deps);
  mountLeaseRoutes(router, deps);
  mountWatchRoutes(router, { ...deps, heartbeatMs });
  const viaRouter = router as unknown as (req: express.Request, res: express.Response, next: express.NextFunction) => void;
  // The hot key routes first, without the router's walk; everything else through the router.
  return ((req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (!shortcut(req, res, next)) viaRouter(req, res, next);
  }) as unknown as KvRequestHandler;
}
