import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KvClient, createKvReplica, type KvRaftReplica } from '@raftkit/kv';
import { FileValueStore } from '@raftkit/kv/file-values';
import { RocksLogStorage, type SyncedWriteTiming } from '@raftkit/log-rocksdb';
import { HttpTransport } from '@raftkit/transport-http';
import express, { type Request, type Response } from 'express';
import { pino, type Logger } from 'pino';
import type { ServerConfig } from './config.js';
import { ClientAdmission } from './connLimits.js';
import { kvLane } from './kvLane.js';
import { bodyError, Forwarder, HttpError, inSeries, notLeaderHandler, sendError, ServerErrorCode } from '@raftkit/kv-http/internal';
import { healthRouter } from './healthRoutes.js';
import { handOverLeadership } from './handOver.js';
import { Joiner } from './join.js';
import { createKvRouter, expressServerClasses } from '@raftkit/kv-http';
import { LeaderHandoff } from './leaderHandoff.js';
import { MemberAddresses } from './memberAddresses.js';
import { memberRouter } from './memberRoutes.js';
import { snapshotRouter } from './snapshotRoutes.js';
import { ServerMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { PeerErrorLog } from './peerErrors.js';
import { LeaderCommitTap, Readiness } from './readiness.js';
import { dashboardRoutes } from './dashboardRoutes.js';

/** Paths the peer router may serve (express matches them case-insensitively). */
const PEER_PATH = /^\/raft\//i;

export interface RunningServer {
  readonly url: string;
  readonly replica: KvRaftReplica;
  readonly logger: Logger;
  /** Stops accepting, finishes in-flight requests and applies, flushes and closes storage. */
  shutdown(): Promise<void>;
}

/** Starts one node: RocksDB log, HTTP peer transport, KV state machine and the client API. */
export async function startServer(cfg: ServerConfig, logger: Logger = pino({ level: cfg.logLevel, base: { node: cfg.id } })): Promise<RunningServer> {
  mkdirSync(cfg.dataDir, { recursive: true });
  // The storage is opened before the metrics exist; its first synced batches go unobserved.
  let observeSyncedWrite: ((t: SyncedWriteTiming) => void) | null = null;
  const storage = await RocksLogStorage.open(join(cfg.dataDir, 'raft'), { onSyncedWrite: (t) => observeSyncedWrite?.(t) });
  const stored = await storage.state();
  // A data directory with a log (or a snapshot) takes its membership from it; --peers and
  // --join are for a node's first start only.
  const holdsLog = stored.lastIndex > 0 || stored.snapshot !== null;
  const addresses = new MemberAddresses(cfg.id, cfg.selfUrl, cfg.peers);
  const tls = cfg.tls ? { key: readFileSync(cfg.tls.key), cert: readFileSync(cfg.tls.cert), ca: readFileSync(cfg.tls.ca) } : null;
  // Reports come only once the node runs, after `metrics` exists.
  const peerErrors = new PeerErrorLog(logger, () => metrics);
  const transport = new HttpTransport({
    id: cfg.id,
    secret: cfg.secret,
    // The bootstrap voters; the address book (updatePeers) takes over from the log, and
    // forgets a --peers node once its removal is committed (memberAddresses.ts).
    peers: { ...cfg.peers },
    ...(tls ? { tls: { ca: tls.ca, key: tls.key, cert: tls.cert } } : {}),
    stream: cfg.peerStream,
    onError: (err) => peerErrors.report(err),
  });
  // The node gets the transport through a tap that notes the leader's commit index (readiness).
  const tap = new LeaderCommitTap(transport, () => addresses.refresh());
  // Large values live in files, not the heap (rebuilt from the snapshot and log at each start).
  const values = cfg.diskValuesFrom === null ? null : FileValueStore.open({
    dir: join(cfg.dataDir, 'values'),
    minBytes: cfg.diskValuesFrom,
    onError: (err) => logger.warn({ code: err.code }, err.message),
  });
  const replica = await createKvReplica({
    id: cfg.id,
    // A joining node starts in no configuration and never campaigns until a leader adds it.
    // Otherwise the bootstrap voters, used only until the log holds a configuration.
    voters: cfg.join !== null ? [] : [cfg.id, ...Object.keys(cfg.peers)],
    // No bootstrapAddresses: until the first membership change each node reaches the bootstrap
    // voters at its own --peers URLs (tests and proxies rely on per-node addresses); every change
    // the server proposes then writes every member's URL into the log (memberAddresses.ts).
    storage,
    transport: tap,
    tickMs: cfg.tickMs,
    electionTicks: cfg.electionTicks,
    heartbeatTicks: cfg.heartbeatTicks,
    snapshotEvery: cfg.snapshotEvery,
    snapshots: { trailingEntries: cfg.snapshotTrailing, chunkBytes: cfg.snapshotChunkBytes },
    requestTimeoutMs: cfg.requestTimeoutMs,
    maxLearnerLag: cfg.maxLearnerLag,
    membershipTimeoutMs: cfg.membershipTimeoutMs,
    kv: { watchHistory: cfg.watchHistory, watchHistoryBytes: cfg.watchHistoryBytes, ...(values && { values }) },
  }).catch((err: unknown) => {
    values?.close(); // a failed start frees the value directory for the next one
    throw err;
  });
  const node = replica.node;
  addresses.bind(() => node.membership(), transport);
  addresses.refresh();
  if (holdsLog) {
    const m = node.membership();
    const ignored = [cfg.join !== null ? '--join' : null, Object.keys(cfg.peers).length > 0 ? '--peers' : null].filter(Boolean);
    logger.info({ lastIndex: stored.lastIndex, membershipIndex: m.index, voters: m.config.voters, learners: m.config.learners, ignored },
      `the data directory holds a log: membership comes from it${ignored.length > 0 ? ` (${ignored.join(' and ')} ignored)` : ''}`);
  }
  const electionMs = cfg.electionTicks * cfg.tickMs;
  // One attempt per request: KvClient would otherwise re-propose after a 2 s attempt timeout,
  // and a write without idempotency headers has no session to deduplicate it, so one HTTP
  // request could apply twice (a CAS then reports ok: false against its own value).
  const client = new KvClient(replica, { timeoutMs: cfg.requestTimeoutMs, attemptTimeoutMs: cfg.requestTimeoutMs, maxValueBytes: cfg.maxValueBytes });
  const metrics = new ServerMetrics(node);
  observeSyncedWrite = (t) => metrics.observeSyncedWrite(t);
  // A follower waits up to an election timeout (within 250 ms - 2 s) for the leader's answer.
  const readiness = new Readiness(node, tap, { maxLag: cfg.readyMaxLag, probeTimeoutMs: Math.min(2000, Math.max(250, cfg.electionTicks * cfg.tickMs)) });
  const admission = new ClientAdmission({
    maxClientConnections: cfg.fds.maxClientConnections,
    overflowConnections: cfg.fds.overflowConnections,
    peerConnections: cfg.fds.peerConnections,
    maxInflightRequests: cfg.maxInflightRequests,
    logger,
  });
  metrics.trackAdmission(() => admission.stats());
  if (values) metrics.trackDiskValues(() => values.stats());
  node.on('stateChange', (s) => logger.info({ role: s.role, term: s.term, leader: s.leader }, 'raft state changed'));
  node.on('error', (err) => logger.fatal({ err }, 'raft node failed; it has stopped'));
  node.on('snapshot', (t) => logger.info({ index: t.index, bytes: t.size, writeMs: Math.round(t.writeMs), installMs: Math.round(t.installMs), compactedTo: t.compactedTo }, 'snapshot taken'));
  node.on('snapshotTransferFailed', (peer, reason) => logger.warn({ peer, reason }, 'snapshot transfer given up; it starts again while the follower needs it'));
  node.on('membership', (m) => logger.info({ index: m.index, committed: m.committed, voters: m.config.voters, votersOutgoing: m.config.votersOutgoing, learners: m.config.learners }, 'membership changed'));

  /** This listener's URL, once it listens. */
  let url: string | null = null;
  let stopping = false;
  let shuttingDown = false;
  /** Set once this node handed its leadership over: answers close their connections. */
  let draining = false;
  let inFlight = 0;
  let drained: (() => void) | null = null;
  const app = express();
  app.disable('x-powered-by');
  // No ETags: nothing here is cached by validators, and the hash over every body cost the
  // hot routes per request (issue 11).
  app.set('etag', false);
  // Peer messages on their exact path never get here (served ahead of express, below); the
  // router still answers any other /raft/ path as before, and costs client requests one test.
  const peerRouter = transport.router();
  const peerGate: express.RequestHandler = (req, res, next) => (PEER_PATH.test(req.url) ? peerRouter(req, res, next) : next());
  const drainGate: express.RequestHandler = (req, res, next) => {
    // While a stopping node drains, clients are sent to the leader it handed over to (a 307
    // names it; a write that was refused applied nothing), or told to retry if none is known.
    if (draining) res.setHeader('connection', 'close');
    if (shuttingDown) {
      const leader = node.status().leader;
      const to = leader !== null && leader !== cfg.id ? urlOf(leader) : null;
      if (to !== null) return res.redirect(307, to + req.originalUrl);
      return sendError(res, new HttpError(503, ServerErrorCode.ShuttingDown, 'server is shutting down'));
    }
    inFlight++;
    res.on('close', () => {
      if (--inFlight === 0 && drained) drained();
    });
    next();
  };

  const urlOf = (id: string): string | null => cfg.clientUrls[id] ?? addresses.urlOf(id);
  const routing = { selfId: cfg.id, followerMode: cfg.followerMode, clientUrlOf: urlOf, ...(tls ? { ca: tls.ca } : {}) };
  // A little over the leader's own deadline, so its answer (even RAFT_TIMEOUT) gets back.
  const handoff = new LeaderHandoff(node, new Forwarder({ ...routing, timeoutMs: cfg.requestTimeoutMs + 1000 }), {
    windowMs: 2 * electionMs,
    waitMs: cfg.requestTimeoutMs,
    clientUrlOf: urlOf,
    selfUrl: () => url,
  });
  const onHandoff = (req: Request, res: Response, err: unknown) => handoff.carry(req, res, err);

  const dashboard = dashboardRoutes({ node, metrics, storage, logger, clientUrlOf: (id) => (id === cfg.id ? cfg.selfUrl ?? url : urlOf(id)), peerStats: () => transport.stats().peers as Record<string, { backoffMs?: number }>, ...(tls ? { ca: tls.ca } : {}) });
  // Every request passes these in this order, as one express layer rather than four (each
  // layer's dispatch was a measurable share of a PUT, issue 11): connections and requests over
  // the limits are refused before any work (peers pass), then other /raft/ paths, then a
  // draining or stopping node's answers, then the dashboard's paths.
  const gates = [admission.middleware, peerGate, drainGate, dashboard];
  app.use(inSeries(...gates));
  const kvRouter = createKvRouter({
    client,
    selfId: cfg.id,
    clientUrlOf: urlOf,
    notLeader: cfg.followerMode,
    maxValueBytes: cfg.maxValueBytes,
    requestTimeoutMs: cfg.requestTimeoutMs,
    forwardTimeoutMs: cfg.requestTimeoutMs + 1000,
    watchHeartbeatMs: cfg.watchHeartbeatMs,
    ...(tls ? { ca: tls.ca } : {}),
    metrics,
    onHandoff: (req, res, err) => onHandoff(req as Request, res as Response, err),
  }) as express.RequestHandler;
  app.use(kvRouter);
  app.use('/v1', memberRouter({
    node,
    addresses,
    metrics,
    membershipTimeoutMs: cfg.membershipTimeoutMs,
    requestTimeoutMs: cfg.requestTimeoutMs,
    onNotLeader: notLeaderHandler({ ...routing, timeoutMs: cfg.membershipTimeoutMs + 1000 }),
  }));
  app.use(snapshotRouter(node, storage));
  app.get('/v1/status', (_req, res) => res.json(statusBody(replica, addresses, (id) => (id === cfg.id ? cfg.selfUrl ?? url : urlOf(id)), transport)));
  app.get('/v1/openapi.json', (_req, res) => res.json(openApiDocument));
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(healthRouter(node, readiness));
  const notFound = (req: Request, res: Response): void => sendError(res, new HttpError(404, ServerErrorCode.NotFound, `no route ${req.method} ${req.path}`));
  const failed = (err: unknown, res: Response): void => sendError(res, bodyError(err));
  app.use(notFound);
  app.use((err: unknown, _req: Request, res: Response, _next: unknown) => failed(err, res));
  // /v1/kv/{key} passes the same handlers without the app's router (kvLane.ts, issue 11).
  const kvKeys = kvLane(app, inSeries(...gates, kvRouter), (req, res, err) => (err === undefined || err === null ? notFound(req, res) : failed(err, res)));

  // Peer messages are served ahead of express (the transport does every check the router
  // does); client requests, and any peer path but the exact one, go to the app.
  const peer = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (!transport.handleRequest(req, res)) return false;
    admission.notePeer(req);
    return true;
  };
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!peer(req, res) && !kvKeys(req, res)) app(req, res);
  };
  // Requests and responses born with the app's prototypes: express then need not re-prototype
  // them, which made every request measurably slower (kv-http's serverClasses.ts, issue 11).
  const classes = expressServerClasses(app);
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert, ...classes }, listener) : http.createServer(classes, listener);
  // What Node does without a listener (100 Continue, then the request) for clients; a peer's
  // large body is judged first, so a refusal goes out before the body is sent.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (peer(req, res)) return;
    res.writeContinue();
    app(req, res);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.listen.port, cfg.listen.host, () => resolve());
  });
  admission.attach(server);
  await node.start();
  const addr = server.address() as AddressInfo;
  url = `${tls ? 'https' : 'http'}://${cfg.listen.host}:${addr.port}`;
  logger.info({ url, selfUrl: cfg.selfUrl, peers: addresses.book(), data: cfg.dataDir, fds: cfg.fds, maxInflightRequests: cfg.maxInflightRequests }, 'raftkit server listening');
  const joiner = cfg.join !== null && !holdsLog
    ? new Joiner({ joinUrl: cfg.join, id: cfg.id, url: cfg.selfUrl!, role: cfg.learner ? 'learner' : 'voter', addresses, logger, timeoutMs: cfg.membershipTimeoutMs + 5000, ...(tls ? { ca: tls.ca } : {}) })
    : null;
  joiner?.start();

  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    joiner?.cancel();
    await handOverLeadership(node, logger, electionMs);
    // For a moment longer new requests are still taken (a write is carried to the new leader,
    // leaderHandoff.ts) while every answer closes its connection, so clients reconnect and,
    // from the 307s that follow, find the new leader: a graceful restart fails no request.
    draining = true;
    await new Promise((r) => setTimeout(r, Math.min(electionMs, 1000)));
    shuttingDown = true;
    logger.info('shutting down: no new requests (clients are redirected to the leader)');
    // Keep listening until the node has stopped: peers answer this node's messages over this
    // server, so closing it first would leave a leader unable to commit the writes it is
    // finishing. New client requests meanwhile get a 307 to the leader (503 SERVER_SHUTTING_DOWN if none is known).
    if (inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => (drained = r)), new Promise((r) => (timer = setTimeout(r, cfg.requestTimeoutMs)))]);
      clearTimeout(timer);
    }
    await node.stop({ transferLeadership: false });
    await storage.close();
    values?.close();
    metrics.eventLoopDelay.stop();
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closed;
    logger.info('shut down cleanly');
  };
  return { url, replica, logger, shutdown };
}

/** `clientUrlOf` covers this node too: a leader names its own URL, like its followers do. */
function statusBody(replica: KvRaftReplica, addresses: MemberAddresses, clientUrlOf: (id: string) => string | null, transport: HttpTransport) {
  const st = replica.node.status();
  const peerStats = transport.stats().peers as Record<string, { backoffMs?: number; stream?: 'off' | 'opening' | 'open' | 'fallback' }>;
  const peers: Record<string, { url: string; match: number | null; lag: number | null; backoffMs: number; stream: string }> = {};
  for (const [id, url] of Object.entries(addresses.book())) {
    if (id === st.id) continue;
    const p = st.progress[id];
    peers[id] = { url, match: p ? p.match : null, lag: p ? Math.max(0, st.lastIndex - p.match) : null, backoffMs: peerStats[id]?.backoffMs ?? 0, stream: peerStats[id]?.stream ?? 'off' };
  }
  return {
    id: st.id,
    role: st.role,
    term: st.term,
    leader: st.leader,
    leaderUrl: st.leader === null ? null : clientUrlOf(st.leader),
    commitIndex: st.commitIndex,
    appliedIndex: st.appliedIndex,
    lastIndex: st.lastIndex,
    snapshotIndex: st.snapshotIndex,
    running: st.running,
    peers,
  };
}
