import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KvClient, createKvReplica, type KvRaftReplica, type KvReplicaOptions } from '@raftkit/kv';
import { MemoryLogStorage } from '@raftkit/log-memory';
import { MemoryNetwork } from '@raftkit/transport-memory';
import { createKvRouter, expressServerClasses, type KvRouterOptions } from '../src/index.js';

/** The express factory a suite runs on (express 5, or express 4 via the `express4` alias). */
export type ExpressFactory = () => { use(h: unknown): unknown; listen(port: number, host: string, cb: () => void): http.Server; request: object; response: object };

export interface Cluster {
  readonly urls: Map<string, string>;
  readonly replicas: Map<string, KvRaftReplica>;
  readonly network: MemoryNetwork;
  leader(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Three KV replicas (memory storage, memory transport), each behind its own express app on
 * 127.0.0.1:0. Only `a` has a short election timeout (100-200 ms); `b` and `c` wait a minute,
 * so `a` leads for the whole suite even when a loaded machine stalls the event loop (CI runs
 * many packages at once) and the tests that ask "who leads?" cannot race a re-election.
 * `born`: served by `http.createServer(expressServerClasses(app), app)` instead of `app.listen`.
 */
export async function startCluster(makeApp: ExpressFactory, extra: Partial<KvRouterOptions> = {}, replicaExtra: Partial<KvReplicaOptions> = {}, born = false): Promise<Cluster> {
  const ids = ['a', 'b', 'c'];
  const network = new MemoryNetwork({ seed: 1 });
  const urls = new Map<string, string>();
  const replicas = new Map<string, KvRaftReplica>();
  const servers: http.Server[] = [];
  for (const id of ids) {
    const replica = await createKvReplica({ id, voters: ids, storage: MemoryLogStorage.open(), transport: network.transport(id), tickMs: 10, electionTicks: id === 'a' ? 10 : 6000, ...replicaExtra });
    replicas.set(id, replica);
    const app = makeApp();
    const client = new KvClient(replica, { timeoutMs: 3000 });
    app.use(createKvRouter({ client, selfId: id, clientUrlOf: (x) => urls.get(x) ?? null, ...extra }));
    const server = await new Promise<http.Server>((resolve) => {
      const s = born
        ? http.createServer(expressServerClasses(app), app as unknown as http.RequestListener).listen(0, '127.0.0.1', () => resolve(s))
        : app.listen(0, '127.0.0.1', () => resolve(s));
    });
    servers.push(server);
    urls.set(id, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  for (const r of replicas.values()) await r.node.start();
  return {
    urls,
    replicas,
    network,
    async leader() {
      for (;;) {
        // Every node must know it: a follower that has not yet heard from the new leader has no
        // one to forward or redirect to, and answers 503 (what CI once caught here).
        if ([...replicas.values()].every((r) => r.node.status().leader === 'a')) return 'a';
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      for (const r of replicas.values()) await r.node.stop({ transferLeadership: false });
    },
  };
}
