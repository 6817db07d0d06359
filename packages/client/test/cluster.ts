import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isNotLeaderError } from '@raftkit/core';
import { KvClient, createKvReplica, type KvRaftReplica } from '@raftkit/kv';
import { createKvRouter } from '@raftkit/kv-http';
import { notLeaderHandler, sendError } from '@raftkit/kv-http/internal';
import express from 'express';

export interface TestCluster {
  readonly urls: Map<string, string>;
  readonly replicas: Map<string, KvRaftReplica>;
  /** Requests each node received, by "METHOD path" (query left out). */
  readonly hits: Map<string, string[]>;
  close(): Promise<void>;
}

/**
 * Three KV replicas (memory log and network) behind express apps on 127.0.0.1:0, serving
 * kv-http's router plus the server's /v1/sessions, /v1/status and /healthz. Only `a` has a
 * short election timeout, so `a` leads throughout; resolves once every node knows it.
 */
export async function startCluster(opts: { notLeader?: 'forward' | 'redirect' } = {}): Promise<TestCluster> {
  const { MemoryLogStorage } = await import('@raftkit/log-memory');
  const { MemoryNetwork } = await import('@raftkit/transport-memory');
  const ids = ['a', 'b', 'c'];
  const network = new MemoryNetwork({ seed: 1 });
  const urls = new Map<string, string>();
  const replicas = new Map<string, KvRaftReplica>();
  const hits = new Map<string, string[]>();
  const servers: http.Server[] = [];
  for (const id of ids) {
    const replica = await createKvReplica({ id, voters: ids, storage: MemoryLogStorage.open(), transport: network.transport(id), tickMs: 10, electionTicks: id === 'a' ? 10 : 6000 });
    replicas.set(id, replica);
    const client = new KvClient(replica, { timeoutMs: 3000 });
    const log: string[] = [];
    hits.set(id, log);
    const app = express();
    app.use((req, _res, next) => {
      log.push(`${req.method} ${req.path}`);
      next();
    });
    app.use(createKvRouter({ client, selfId: id, clientUrlOf: (x) => urls.get(x) ?? null, ...(opts.notLeader ? { notLeader: opts.notLeader } : {}) }));
    // As raftkit-server does: a follower forwards (or redirects) a session registration.
    const onNotLeader = notLeaderHandler({ selfId: id, followerMode: opts.notLeader ?? 'forward', clientUrlOf: (x) => urls.get(x) ?? null, timeoutMs: 4000 });
    app.post('/v1/sessions', async (req, res) => {
      try {
        res.json({ clientId: await client.registerSession() });
      } catch (err) {
        if (isNotLeaderError(err) && (await onNotLeader(req, res, err))) return;
        sendError(res, err);
      }
    });
    app.get('/v1/status', (_req, res) => {
      const st = replica.node.status();
      res.json({ id, role: st.role, term: st.term, leader: st.leader, leaderUrl: st.leader === null ? null : urls.get(st.leader) ?? null, commitIndex: st.commitIndex, appliedIndex: st.appliedIndex, lastIndex: st.lastIndex, snapshotIndex: st.snapshotIndex, running: st.running, peers: {} });
    });
    app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
    const server = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    servers.push(server);
    urls.set(id, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  for (const r of replicas.values()) await r.node.start();
  while (![...replicas.values()].every((r) => r.node.status().leader === 'a')) await new Promise((r) => setTimeout(r, 10));
  return {
    urls,
    replicas,
    hits,
    async close() {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      for (const r of replicas.values()) await r.node.stop({ transferLeadership: false });
    },
  };
}

/** An express app on 127.0.0.1:0 (a stand-in server for one test); `url` and `close()`. */
export async function stubServer(setup: (app: express.Express) => void): Promise<{ url: string; server: http.Server; close(): Promise<void> }> {
  const app = express();
  app.use(express.json({ strict: false }));
  setup(app);
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port nothing listens on (it was free a moment ago). */
export async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}
