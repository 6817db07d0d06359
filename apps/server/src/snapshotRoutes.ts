import { once } from 'node:events';
import type { LogStorage, RaftNode } from '@raftkit/core';
import express, { type Router } from 'express';
import { HttpError, sendError } from '@raftkit/kv-http/internal';
import { encodeBackupHeader } from './backupFile.js';

/**
 * `POST /v1/snapshot` takes a snapshot of this node's state now (and compacts its log to the
 * trailing margin); `GET /v1/snapshot` streams this node's latest snapshot as a backup file
 * (backupFile.ts) for `raftkit-server restore`. Both act on the node asked, leader or not:
 * every node's snapshot at an index is the same state.
 */
export function snapshotRouter(node: RaftNode<unknown>, storage: LogStorage): Router {
  const r = express.Router();
  r.post('/v1/snapshot', async (_req, res) => {
    try {
      const meta = await node.snapshot();
      const reader = await storage.openSnapshot();
      const body = { index: meta.index, term: meta.term, size: reader?.size ?? 0, checksum: reader?.checksum ?? null };
      await reader?.close();
      res.json(body);
    } catch (err) {
      sendError(res, err);
    }
  });
  r.get('/v1/snapshot', async (req, res) => {
    let reader;
    try {
      reader = await storage.openSnapshot();
    } catch (err) {
      sendError(res, err);
      return;
    }
    if (!reader) {
      sendError(res, new HttpError(404, 'SERVER_NO_SNAPSHOT', 'this node has no snapshot yet: POST /v1/snapshot takes one'));
      return;
    }
    try {
      const header = encodeBackupHeader(reader);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(header.length + reader.size),
        'content-disposition': `attachment; filename="raftkit-snapshot-${reader.meta.index}.snap"`,
        'x-raftkit-snapshot-index': String(reader.meta.index),
        'x-raftkit-snapshot-term': String(reader.meta.term),
        'x-raftkit-snapshot-sha256': reader.checksum,
      });
      res.write(header);
      for await (const chunk of reader.stream()) {
        if (req.destroyed || res.destroyed) break;
        // Backpressure: never more than one chunk buffered per download.
        if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
      res.end();
    } catch (err) {
      // Headers are gone: a half-sent file must not look complete. Cut the connection.
      if (res.headersSent) res.destroy(err as Error);
      else sendError(res, err);
    } finally {
      await reader.close();
    }
  });
  return r;
}
