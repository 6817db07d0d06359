/**
 * `POST /v1/sessions`: registers a client session through the log (its id is the index of the
 * registration entry, the same on every replica) for exactly-once writes with the
 * x-raftkit-client-id / x-raftkit-seq headers. What @raftkit/client calls before its first
 * write; a follower forwards it to (or redirects it at) the leader like any write.
 */
import type { Router } from 'express';
import { sendJson } from './jsonResponse.js';
import type { KvRouteDeps } from './kvRoutes.js';
import { routeWrapper } from './routeWrap.js';

export function mountSessionRoutes(r: Router, deps: KvRouteDeps): void {
  const wrap = routeWrapper(deps.metrics, { onNotLeader: deps.onNotLeader, onHandoff: deps.onHandoff });
  r.post('/v1/sessions', wrap('session', async (_req, res) => {
    sendJson(res, 200, { clientId: await deps.client.registerSession() });
  }));
}
