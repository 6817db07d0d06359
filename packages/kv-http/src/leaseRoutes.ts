/**
 * Leases under `/v1/leases`: grant and revoke go through the log, exactly once under the
 * request's session tag; keep-alive and time-to-live are answered by the leader (its clock
 * keeps the deadlines), confirmed by a ReadIndex and not logged. A follower forwards (or
 * redirects) all of them but a list with no leases, like the other leader-only requests.
 */
import { isKvError, KvErrorCode, type LeaseTimeToLive } from '@raftkit/kv';
import type { NextFunction, Request, Response, Router } from 'express';
import { bodyError, fastJsonBody, inSeries, jsonBody } from './body.js';
import { bodyDeadline } from './bodyDeadline.js';
import { HttpError, sendError } from './httpErrors.js';
import { sendJson } from './jsonResponse.js';
import { leaseIdOf, sessionTagOf, type KvRouteDeps } from './kvRoutes.js';
import { routeWrapper } from './routeWrap.js';

const LEASES = '/v1/leases';
const LEASE = '/v1/leases/:id';
const KEEPALIVE = '/v1/leases/:id/keepalive';

const invalid = (message: string): HttpError => new HttpError(400, 'KV_INVALID_ARGUMENT', message);

/** Time left as whole ms, rounded down (the keeper's clock has sub-ms precision). */
const wholeMs = (ms: number): number => Math.max(0, Math.floor(ms));

function idParam(req: Request): number {
  return leaseIdOf((req.params as { id?: string }).id, 'the lease id in the path');
}

/** `{ ttlMs, id? }`: a TTL in whole ms, and the id to give the lease (omitted or 0: the grant's revision). */
function grantBody(req: Request): { ttlMs: number; id?: number } {
  const b = req.body as Record<string, unknown> | undefined;
  if (!req.is('application/json') || typeof b !== 'object' || b === null || Array.isArray(b)) {
    throw invalid('a lease grant takes a JSON object {"ttlMs": number, "id"?: number}');
  }
  for (const f of Object.keys(b)) if (f !== 'ttlMs' && f !== 'id') throw invalid(`unknown lease grant field ${JSON.stringify(f)} (ttlMs, id)`);
  const ttl = b['ttlMs'];
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1) throw invalid(`ttlMs must be a positive integer (milliseconds), got ${JSON.stringify(ttl) ?? 'nothing'}`);
  const id = b['id'];
  if (id === undefined) return { ttlMs: ttl };
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw invalid(`id must be a positive integer (or 0: the grant's revision), got ${JSON.stringify(id)}`);
  return { ttlMs: ttl, id };
}

function keysQuery(req: Request): boolean {
  const k = req.query['keys'];
  if (k === undefined || k === 'false') return false;
  if (k === 'true') return true;
  throw invalid(`keys must be true or false, got ${JSON.stringify(k)}`);
}

/** The lease routes, registered on `r`. */
export function mountLeaseRoutes(r: Router, deps: KvRouteDeps): void {
  const limit = 64 * 1024;
  const body = inSeries(bodyDeadline(deps.requestTimeoutMs), fastJsonBody(limit), jsonBody(limit));
  const wrap = routeWrapper(deps.metrics, { onNotLeader: deps.onNotLeader, onHandoff: deps.onHandoff });
  const { client } = deps;

  r.post(LEASES, body, wrap('leaseGrant', async (req, res) => {
    const out = await client.proposeWrite<'leaseGrant'>({ op: 'leaseGrant', ...grantBody(req) }, sessionTagOf(req));
    deps.metrics.countProposal('ok');
    sendJson(res, 200, { revision: out.revision, id: out.id, ttlMs: out.ttlMs });
  }));

  r.get(LEASES, wrap('leaseList', async (_req, res) => {
    const ids = await client.leases();
    // Time left is the leader's to tell (a follower's answer is forwarded); a lease revoked
    // between the list and its lookup is left out.
    const all = await Promise.all(ids.map((id) => client.timeToLive(id).catch((err: unknown) => {
      if (isKvError(err, KvErrorCode.LeaseNotFound)) return null;
      throw err;
    })));
    const leases = all.filter((l): l is LeaseTimeToLive => l !== null).map((l) => ({ id: l.id, ttlMs: wholeMs(l.ttlMs), grantedTtlMs: l.grantedTtlMs }));
    sendJson(res, 200, { leases });
  }));

  r.post(KEEPALIVE, wrap('leaseKeepAlive', async (req, res) => {
    const out = await client.keepAlive(idParam(req));
    sendJson(res, 200, { id: out.id, ttlMs: wholeMs(out.ttlMs) });
  }));

  r.get(LEASE, wrap('leaseGet', async (req, res) => {
    const id = idParam(req);
    const out = await client.timeToLive(id, { keys: keysQuery(req) });
    sendJson(res, 200, { id: out.id, ttlMs: wholeMs(out.ttlMs), grantedTtlMs: out.grantedTtlMs, ...(out.keys !== undefined ? { keys: out.keys } : {}) });
  }));

  r.delete(LEASE, wrap('leaseRevoke', async (req, res) => {
    const out = await client.proposeWrite<'leaseRevoke'>({ op: 'leaseRevoke', id: idParam(req) }, sessionTagOf(req));
    deps.metrics.countProposal('ok');
    sendJson(res, 200, { revision: out.revision, revoked: out.revoked, deleted: out.deleted });
  }));

  const notAllowed = wrap('other', async (req) => {
    throw new HttpError(405, 'SERVER_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`);
  });
  r.all(LEASES, notAllowed);
  r.all(LEASE, notAllowed);
  r.all(KEEPALIVE, notAllowed);
  r.use(LEASES, (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, bodyError(err));
    deps.metrics.countRequest('leaseGrant', res.statusCode);
  });
}
