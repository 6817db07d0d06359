/**
 * `@raftkit/kv-http/internal`: the pieces apps/server builds its other routes from (body
 * readers, the route wrapper, the forwarder). Typed with express's types; no stability promise.
 */
export { MAX_BODY_DEPTH, bodyError, fastJsonBody, fastRawBody, inSeries, jsonBody, jsonDepthExceeds, rawBody } from './body.js';
export { bodyDeadline } from './bodyDeadline.js';
export { FORWARDED_BY_HEADER, Forwarder, notLeaderHandler, type ForwardOptions, type LeaderRoutingOptions } from './forward.js';
export { HttpError, ServerErrorCode, isHttpError, sendError, toHttpError } from './httpErrors.js';
export { sendJson } from './jsonResponse.js';
export { mountKvRoutes, sessionTagOf, type KvRouteDeps } from './kvRoutes.js';
export { routeWrapper, type RouteErrorHooks, type RouteHandler } from './routeWrap.js';
export type { KvHttpMetrics } from './metrics.js';
export { mountTxnRoutes, txnBody, txnResultJson } from './txnRoutes.js';
export { mountLeaseRoutes } from './leaseRoutes.js';
export { mountWatchRoutes, watchQuery, eventFrame, errorFrame, type WatchRouteDeps } from './watchRoutes.js';
