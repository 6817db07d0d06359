/**
 * The dashboard: `GET /ui` (static files from apps/server/ui, read once at start),
 * `GET /v1/dashboard` (this node's view as JSON, dashboardStatus.ts) and
 * `GET /v1/dashboard/members/{id}` (a member's view, fetched by this node: dashboardProxy.ts),
 * so the page talks to the node that served it only. The same middleware times write
 * requests for the commit latency chart (dashboardSampler.ts) and /metrics.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeId, RaftNode } from '@raftkit/core';
import type { NextFunction, Request, Response } from 'express';
import { HttpError, sendError, ServerErrorCode } from '@raftkit/kv-http/internal';
import type { Logger } from 'pino';
import { ClusterHistory } from './dashboardHistory.js';
import { DashboardProxy } from './dashboardProxy.js';
import { metricsSource, RateSampler } from './dashboardSampler.js';
import { DashboardStatus, type DashboardStorage } from './dashboardStatus.js';
import { memberIds } from './memberAddresses.js';
import type { ServerMetrics } from './metrics.js';

/** apps/server/ui, from src/ (tests, tsx) and from dist/ (the built server) alike. */
export const defaultUiDir = fileURLToPath(new URL('../ui/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The page's scripts come only from this server, it fetches from this server only (other
 * members through GET /v1/dashboard/members/{id}) and draws with inline SVG. Nothing else
 * loads, nothing frames it.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const MEMBER_PATH = '/v1/dashboard/members/';

/** A file name the dashboard serves: no separators, no leading dot (so no `..`). */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

interface UiFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/**
 * The served files: exactly the regular files (not symlinks) directly in `dir` with a known type. A request
 * names one of them or gets a 404: nothing outside `dir`, nothing not listed at start.
 */
export function loadUiFiles(dir: string): Map<string, UiFile> {
  const files = new Map<string, UiFile>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    const path = join(dir, name);
    if (!type || !FILE_NAME.test(name) || !lstatSync(path).isFile()) continue;
    const body = readFileSync(path);
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return files;
}

export interface DashboardDeps {
  readonly node: RaftNode<unknown>;
  readonly metrics: ServerMetrics;
  readonly storage: DashboardStorage;
  /** Every member's client URL, this node's own included (null: not known yet). */
  clientUrlOf(id: NodeId): string | null;
  peerStats?(): Readonly<Record<NodeId, { backoffMs?: number }>>;
  readonly uiDir?: string;
  readonly logger?: Logger;
  /** CA to verify https members against (--tls-ca), for GET /v1/dashboard/members/{id}. */
  readonly ca?: Buffer;
  /** That route's deadline for a member's answer (default 1500 ms). */
  readonly memberTimeoutMs?: number;
}

/** Write routes whose acknowledgement means committed and applied. */
const WRITE_PATH = /^\/v1\/(kv|txn)(\/|$|\?)/;

/** The middleware `server.ts` mounts ahead of the KV routes (other requests pass through). */
export function dashboardRoutes(deps: DashboardDeps): (req: Request, res: Response, next: NextFunction) => void {
  const startedAt = Date.now();
  const history = new ClusterHistory(deps.node);
  const sampler = new RateSampler(metricsSource(deps.metrics));
  sampler.start(() => deps.node.status().running);
  const status = new DashboardStatus({ ...deps, history, sampler, startedAt });
  deps.metrics.trackLogSize(() => status.logSize());
  const uiDir = deps.uiDir ?? defaultUiDir;
  const files = loadUiFiles(uiDir);
  if (!files.has('index.html')) deps.logger?.warn({ uiDir }, 'dashboard files not found: /ui answers 404');

  const selfId = deps.node.status().id;
  const proxy = new DashboardProxy({
    selfId,
    members: () => memberIds(deps.node.status().membership),
    clientUrlOf: deps.clientUrlOf,
    ...(deps.memberTimeoutMs !== undefined ? { timeoutMs: deps.memberTimeoutMs } : {}),
    ...(deps.ca ? { ca: deps.ca } : {}),
  });

  const serveStatus = async (res: Response): Promise<void> => {
    res.setHeader('cache-control', 'no-store');
    try {
      res.json(await status.body());
    } catch (err) {
      sendError(res, err);
    }
  };

  /** A member's view through this node; this node's own is answered here. */
  const serveMember = async (res: Response, rawId: string): Promise<void> => {
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      id = rawId;
    }
    if (id === selfId) return serveStatus(res);
    try {
      const answer = await proxy.fetch(id);
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-type', answer.contentType);
      res.setHeader('content-length', String(answer.body.length));
      res.end(answer.body);
    } catch (err) {
      res.setHeader('cache-control', 'no-store');
      sendError(res, err);
    }
  };

  const serveFile = (req: Request, res: Response, name: string): void => {
    const f = files.get(name);
    if (!f) {
      sendError(res, new HttpError(404, ServerErrorCode.NotFound, `no dashboard file ${JSON.stringify(name)}${files.size === 0 ? ` (the dashboard files are missing from ${uiDir})` : ''}`));
      return;
    }
    res.setHeader('content-type', f.type);
    // Names are not content-hashed: revalidate every time (a 304 is cheap), so an upgraded
    // server never runs a page with the old scripts.
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('etag', f.etag);
    res.setHeader('x-content-type-options', 'nosniff');
    if (f.type.startsWith('text/html')) {
      res.setHeader('content-security-policy', CSP);
      res.setHeader('referrer-policy', 'no-referrer');
    }
    if (req.headers['if-none-match'] === f.etag) {
      res.status(304).end();
      return;
    }
    res.setHeader('content-length', String(f.body.length));
    if (req.method === 'HEAD') res.end();
    else res.end(f.body);
  };

  return (req, res, next) => {
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') {
      const path = req.path;
      if (path === '/v1/dashboard') return void serveStatus(res);
      if (path.startsWith(MEMBER_PATH) && path.length > MEMBER_PATH.length) return void serveMember(res, path.slice(MEMBER_PATH.length));
      // A relative redirect, so the page's relative asset URLs work behind a path prefix too.
      if (path === '/ui') return res.redirect(308, 'ui/');
      if (path.startsWith('/ui/')) return serveFile(req, res, path === '/ui/' ? 'index.html' : path.slice(4));
      return next();
    }
    if ((method === 'PUT' || method === 'POST' || method === 'DELETE') && WRITE_PATH.test(req.url)) {
      const t0 = performance.now();
      res.once('finish', () => {
        if (res.statusCode >= 300) return;
        const ms = performance.now() - t0;
        sampler.timer.record(ms);
        deps.metrics.writeCommit.observe(ms / 1000);
      });
    }
    next();
  };
}
