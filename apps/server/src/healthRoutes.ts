import type { RaftNode } from '@raftkit/core';
import express, { type Router } from 'express';
import { HttpError, sendError } from '@raftkit/kv-http/internal';
import type { Readiness } from './readiness.js';

/** `/healthz` (liveness: the node runs) and `/readyz` (readiness: caught up enough to serve, see readiness.ts). */
export function healthRouter(node: RaftNode<unknown>, readiness: Readiness): Router {
  const r = express.Router();
  r.get('/healthz', (_req, res) => {
    const running = node.status().running;
    res.status(running ? 200 : 503).json(running ? { status: 'ok' } : { error: { code: 'SERVER_NODE_STOPPED', message: 'the raft node has stopped' } });
  });
  r.get('/readyz', async (_req, res) => {
    const v = await readiness.check();
    if (v.ready) {
      res.json({ status: 'ready', leader: v.leader });
      return;
    }
    // Which condition failed, and the figures it was judged on.
    const { reason, leader, appliedIndex, leaderCommitIndex, lag, maxLag } = v;
    sendError(res, new HttpError(503, 'SERVER_NOT_READY', `not ready: ${v.message}`, { reason, leader, appliedIndex, leaderCommitIndex, lag, maxLag }));
  });
  return r;
}
