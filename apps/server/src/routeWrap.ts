/** The route wrapper (coded errors, not-leader and handover hooks, counting): lives in @raftkit/kv-http. */
export { routeWrapper, type RouteErrorHooks, type RouteHandler } from '@raftkit/kv-http/internal';
