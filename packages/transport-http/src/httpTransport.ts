import { ErrorCode, RaftError } from '@raftkit/core';
import type { Message, NodeId, Transport, TransportHandler } from '@raftkit/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LinkEvents, PeerLink } from './client/peerLink.js';
import { encodeMessage } from './codec/batch.js';
import { type HttpListenOptions, type HttpTransportOptions, type ResolvedOptions, peerUrl, resolveOptions } from './options.js';
import { PeerDirectory } from './peerDirectory.js';
import { PeerFailureLog } from './peerFailureLog.js';
import { HttpErrorCode } from './errors.js';
import { InboundAlarms } from './server/alarms.js';
import { rejection, sendError } from './server/respond.js';
import { BodyGate } from './server/bodyGate.js';
import { type InboundContext, type RaftMiddleware, createMiddleware, handleMessages, isMessagesRequest, isStreamRequest } from './server/router.js';
import { type StandaloneServer, serveMiddleware } from './server/standalone.js';
import { InboundStreams, handleStream } from './stream/inbound.js';
import { NonceBook } from './stream/streamAuth.js';
import { type HttpTransportStats, type PeerStats, StatsBook } from './stats.js';

type Phase = 'created' | 'started' | 'closed';

/**
 * A Transport over HTTP(S). Inbound: `router()` serves `POST /raft/v1/messages` (mount it in
 * any express 4/5 or connect app, or use `HttpTransport.listen`). Outbound: per peer, a keep-alive agent, one
 * request in flight carrying every message queued meanwhile, a bounded queue, timeouts and
 * jittered exponential backoff. With option `stream`, each peer link is one long-lived
 * authenticated stream (`POST /raft/v1/stream`, stream/) instead, falling back to requests.
 *
 * Guarantees: per sender and receiver, messages arrive in send order; they may be lost (queue
 * overflow, backoff, failed request) but never corrupted or misdelivered. `send` never throws
 * or blocks. Sending before `start()` or after `close()` does nothing.
 */
export class HttpTransport implements Transport {
  readonly id: NodeId;
  private readonly options: ResolvedOptions;
  private readonly book = new StatsBook();
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly directory: PeerDirectory;
  private readonly events: LinkEvents;
  private phase: Phase = 'created';
  private handler: TransportHandler | null = null;
  private middleware: RaftMiddleware | null = null;
  private inboundContext: InboundContext | null = null;
  private standalone: StandaloneServer | null = null;
  private closing: Promise<void> | null = null;
  private readonly inboundStreams = new InboundStreams();
  /** Where errors go when the user configured no `onError`. */
  private readonly defaultLog: PeerFailureLog | null;

  constructor(options: HttpTransportOptions) {
    this.options = resolveOptions(options);
    this.id = this.options.id;
    this.defaultLog = this.options.onError ? null : new PeerFailureLog();
    this.events = {
      unreachable: (peer) => this.reportUnreachable(peer),
      error: (err) => this.reportError(err),
      recovered: (peer) => this.defaultLog?.recovered(peer),
    };
    this.directory = new PeerDirectory(this.id, this.options.peers);
    for (const [peer, url] of this.options.peers) this.addLink(peer, url);
  }

  /**
   * Creates a transport with its own express app and http(s) server listening on host:port
   * (default 127.0.0.1, a free port). `close()` also closes that server. The server is
   * https when `tls.key` and `tls.cert` are given.
   */
  static async listen(options: HttpListenOptions): Promise<HttpTransport> {
    const transport = new HttpTransport(options);
    const host = options.host ?? '127.0.0.1';
    const raw = (req: IncomingMessage, res: ServerResponse): boolean => transport.handleRequest(req, res);
    const onError = (err: Error): void => transport.reportError(err);
    transport.standalone = await serveMiddleware(transport.router(), raw, { host, port: options.port ?? 0, tls: options.tls, onError });
    return transport;
  }

  /** Base URL of the server `listen` created, or null for a transport mounted elsewhere. */
  get url(): string | null {
    return this.standalone?.url ?? null;
  }

  /**
   * A connect/express-compatible middleware `(req, res, next)` serving the messages endpoint
   * relative to where it is mounted (`app.use(t.router())` or `app.use('/mount', t.router())`,
   * express 4 or 5); every other request goes to `next()`. The same one on every call. Mount
   * it before body parsers. Its type needs no @types/express.
   */
  router(): RaftMiddleware {
    this.middleware ??= createMiddleware(this.inbound());
    return this.middleware;
  }

  /**
   * Serves `req` if it is for the messages endpoint at the server's root (`/raft/v1/messages`,
   * any query string) and returns true; otherwise returns false and leaves it alone. For a
   * server that calls it ahead of its express app: every check, code and limit of `router()`,
   * without express's per-request routing. Also call it from the server's `checkContinue`
   * listener, so a refused large body is refused before it is sent.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const stream = isStreamRequest(req);
    if (!stream && !isMessagesRequest(req)) return false;
    try {
      if (stream) handleStream(this.inbound(), req, res);
      else handleMessages(this.inbound(), req, res);
    } catch (err) {
      // What express's error handler did on the router path: a bug here must not throw into
      // the http server (an uncaught exception there ends the process).
      this.reportError(err instanceof Error ? err : new Error(String(err)));
      res.sendDate = false;
      sendError(res, rejection(HttpErrorCode.Internal, 'internal error'));
    }
    return true;
  }

  /** What the inbound side (router and raw handler alike) needs; created once. */
  private inbound(): InboundContext {
    const handler = (): TransportHandler | null => (this.phase === 'started' ? this.handler : null);
    this.inboundContext ??= {
      id: this.id,
      secret: this.options.secret,
      maxBodyBytes: this.options.maxBodyBytes,
      maxSnapshotBytes: this.options.maxSnapshotBytes,
      authWindowMs: this.options.authWindowMs,
      stats: this.book,
      gate: new BodyGate(this.options.maxConcurrentBodies),
      bodyIdleMs: this.options.timeoutMs,
      streams: this.inboundStreams,
      nonces: new NonceBook(2 * this.options.authWindowMs),
      alarms: new InboundAlarms((err) => this.reportError(err)),
      isPeer: (peer) => this.links.has(peer),
      accepting: () => handler() !== null,
      handler,
      onError: (err) => this.reportError(err),
    };
    return this.inboundContext;
  }

  /**
   * Configures a peer or changes its configured URL (its queue and sockets are dropped). A
   * peer the latest `updatePeers` map names stays at the map's address. Ignores `id` itself.
   */
  setPeer(peer: NodeId, baseUrl: string): void {
    if (typeof peer !== 'string' || peer === '') throw new RaftError(ErrorCode.InvalidArgument, 'peer id must be a non-empty string');
    if (peer === this.id) return;
    this.directory.configure(peer, peerUrl(peer, baseUrl));
    this.reconcile();
  }

  /**
   * Forgets a peer, configured or announced, until an `updatePeers` map names it again:
   * messages to it are reported unreachable, requests from it refused.
   */
  removePeer(peer: NodeId): void {
    this.directory.forget(peer);
    this.reconcile();
  }

  /**
   * The addresses of the latest configuration's members (called by RaftNode before it sends
   * to a new member). See PeerDirectory for the rule; a link whose address is unchanged is
   * kept with its queue and sockets. Never throws: a bad entry is reported to `onError` as
   * RAFT_HTTP_BAD_PEER_ADDRESS and skipped.
   */
  updatePeers(addresses: Readonly<Record<NodeId, string>>): void {
    if (this.phase === 'closed') return;
    this.directory.announce(addresses, (err) => this.reportError(err));
    this.reconcile();
  }

  async start(handler: TransportHandler): Promise<void> {
    if (this.phase === 'closed') throw new RaftError(ErrorCode.Stopped, `transport ${this.id} is closed`);
    if (this.phase === 'started') throw new RaftError(ErrorCode.InvalidArgument, `transport ${this.id} already started`);
    if (typeof handler?.onMessage !== 'function') throw new RaftError(ErrorCode.InvalidArgument, 'start needs a handler with onMessage');
    this.handler = handler;
    this.phase = 'started';
  }

  /**
   * Encodes each message now (so later mutation by the caller cannot change it) and queues it
   * for its peer. Unknown peers and peers backing off are reported through `onUnreachable`
   * after `send` returns; malformed messages are dropped and reported to `onError`.
   */
  send(messages: readonly Message[]): void {
    if (this.phase !== 'started' || !Array.isArray(messages)) return;
    const unreachable = new Set<NodeId>();
    const byPeer = new Map<PeerLink, Uint8Array[]>();
    for (const message of messages) {
      const frame = this.encode(message);
      if (!frame) continue;
      const link = this.links.get(message.to);
      if (!link) {
        this.book.unknownPeerDrops += 1;
        unreachable.add(message.to);
        continue;
      }
      const frames = byPeer.get(link) ?? [];
      frames.push(frame);
      byPeer.set(link, frames);
    }
    for (const [link, frames] of byPeer) if (!link.enqueue(frames)) unreachable.add(link.peer);
    // The contract says reports come after send returns, never from inside it.
    if (unreachable.size > 0) queueMicrotask(() => unreachable.forEach((peer) => this.reportUnreachable(peer)));
  }

  /** Stops delivery at once, drops queued messages, ends sockets and any server `listen` made. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  stats(): HttpTransportStats {
    const ids = new Set([...this.links.keys(), ...this.book.peers.keys()]);
    const peers: Record<NodeId, PeerStats> = {};
    for (const id of ids) peers[id] = this.peerStats(id);
    return {
      id: this.id,
      peers,
      unknownPeerDrops: this.book.unknownPeerDrops,
      invalidMessages: this.book.invalidMessages,
      inbound: { requests: this.book.inboundRequests, streams: this.inboundStreams.size, rejected: Object.fromEntries(this.book.rejected) },
    };
  }

  private peerStats(id: NodeId): PeerStats {
    const link = this.links.get(id);
    return {
      ...this.book.peer(id),
      url: link?.url.href ?? null,
      queued: link?.queued ?? 0,
      stream: link?.streamState ?? 'off',
      backoffMs: link?.backoff.currentMs ?? 0,
      consecutiveFailures: link?.backoff.failures ?? 0,
    };
  }

  private async shutdown(): Promise<void> {
    this.phase = 'closed';
    this.handler = null;
    for (const link of this.links.values()) link.close();
    this.inboundStreams.closeAll();
    await this.standalone?.close();
  }

  /** Makes the links match the directory: new and moved peers get a fresh link, gone ones none. */
  private reconcile(): void {
    if (this.phase === 'closed') return;
    const wanted = this.directory.resolve();
    for (const [peer, link] of this.links) {
      if (wanted.get(peer)?.href === link.url.href) continue;
      link.close();
      this.links.delete(peer);
    }
    for (const [peer, url] of wanted) if (!this.links.has(peer)) this.addLink(peer, url);
  }

  private addLink(peer: NodeId, url: URL): void {
    const { id, secret, tls, timeoutMs, maxBatchBytes, maxQueuedMessages, maxQueuedBytes, backoff, random, lookup, stream, streamOpenTimeoutMs, streamAckTimeoutMs } = this.options;
    const settings = { self: id, secret, tls, timeoutMs, maxBatchBytes, maxQueuedMessages, maxQueuedBytes, backoff, random, lookup, stream, streamOpenTimeoutMs, streamAckTimeoutMs };
    this.links.set(peer, new PeerLink(peer, url, settings, this.book.peer(peer), this.events));
  }

  /** A message that cannot go on the wire is a bug in the caller: drop it, say so, carry on. */
  private encode(message: Message): Uint8Array | null {
    try {
      if (message === null || typeof message !== 'object') throw new RaftError(ErrorCode.BadMessage, 'a message must be an object');
      if (message.from !== this.id) throw new RaftError(ErrorCode.BadMessage, `message from ${String(message.from)} sent by node ${this.id}`);
      return encodeMessage(message);
    } catch (err) {
      this.book.invalidMessages += 1;
      this.reportError(err instanceof Error ? err : new Error(String(err)));
      return null;
    }
  }

  private reportUnreachable(peer: NodeId): void {
    if (this.phase !== 'started') return;
    try {
      this.handler?.onUnreachable?.(peer);
    } catch (err) {
      this.reportError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private reportError(error: Error): void {
    try {
      if (this.options.onError) this.options.onError(error);
      else this.defaultLog?.report(error);
    } catch {
      // onError must not throw; if it does, there is nobody left to tell.
    }
  }
}
