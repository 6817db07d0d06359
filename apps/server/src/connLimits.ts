import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { HttpError, sendError } from '@raftkit/kv-http/internal';

/** 503 for a request refused because the node is at its connection or in-flight limit; nothing was done, retry later. */
export const OverloadedCode = 'SERVER_OVERLOADED';

export interface AdmissionOptions {
  /** Client connections served at once (--max-client-connections). */
  readonly maxClientConnections: number;
  /** Connections beyond that accepted just to be told 503; beyond those, closed at accept. */
  readonly overflowConnections: number;
  /** Client requests being served at once (--max-inflight-requests). */
  readonly maxInflightRequests: number;
  /** Peer connections accepted beyond the client limits (each peer uses one or two). */
  readonly peerConnections: number;
  readonly logger: Logger;
  /** How long an overflow connection may stay silent before it is closed. Default 1000 ms. */
  readonly overflowGraceMs?: number;
}

/** `client` holds one of the client slots; `overflow` is over the cap; `peer` sent peer traffic. */
type Slot = 'client' | 'overflow' | 'peer';

export interface AdmissionStats {
  readonly clientConnections: number;
  readonly overflowConnections: number;
  readonly peerConnections: number;
  readonly inflightRequests: number;
  /** Refusals by reason: `accept` (closed at once), `connections` (503 on an overflow connection), `inflight` (503). */
  readonly refused: Readonly<Record<'accept' | 'connections' | 'inflight', number>>;
  /** accept() failures (EMFILE, ENFILE...) by code; the server keeps running. */
  readonly acceptErrors: Readonly<Record<string, number>>;
}

/** The socket counted at accept: under TLS the request's socket wraps it. */
function rawSocket(req: IncomingMessage): Socket {
  return (req.socket as Socket & { _parent?: Socket })._parent ?? req.socket;
}

/** Cheap probes answered even at the limits (a liveness probe must not fail because clients crowd the node). */
const probes = new Set(['/healthz', '/readyz', '/metrics', '/v1/status']);

/**
 * Admission control for the client API (issue 9 item 4). Sockets are counted at accept, so the
 * descriptors a node can be made to hold are bounded whatever clients do:
 * - at most `maxClientConnections` client connections are served;
 * - `overflowConnections` more are accepted only to answer their first request with
 *   `503 SERVER_OVERLOADED` and `Connection: close` (or closed if silent for a second);
 * - beyond that, and beyond the peers' reserve, a new connection is closed at accept;
 * - at most `maxInflightRequests` client requests run at once; more get 503 SERVER_OVERLOADED.
 * Peer traffic shares the port: a connection whose first request is a peer request
 * (`/raft/...`) moves to the peer reserve and is never refused here.
 */
export class ClientAdmission {
  private readonly slots = new WeakMap<Socket, Slot>();
  private readonly counts: Record<Slot, number> = { client: 0, overflow: 0, peer: 0 };
  private inflight = 0;
  private readonly refused = { accept: 0, connections: 0, inflight: 0 };
  private readonly acceptErrors: Record<string, number> = {};
  private lastAcceptErrorLog = 0;

  constructor(private readonly opts: AdmissionOptions) {}

  /** Counts the server's sockets and keeps accept errors from being fatal; call once it listens. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    // libuv closes what it cannot accept (EMFILE) and usually says nothing, but when it does
    // report, an 'error' on a listening server without a listener would kill the process.
    server.on('error', (err: NodeJS.ErrnoException) => this.onAcceptError(err));
  }

  /**
   * A peer request served ahead of express (HttpTransport.handleRequest): its connection moves
   * to the peer reserve, as the middleware does for `/raft/` paths.
   */
  notePeer(req: IncomingMessage): void {
    const raw = rawSocket(req);
    const slot = this.slots.get(raw);
    if (slot && slot !== 'peer') this.move(raw, slot, 'peer');
  }

  /** Express middleware; mount it before every route, the peer router included. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const raw = rawSocket(req);
    const slot = this.slots.get(raw);
    if (req.path.startsWith('/raft/')) {
      if (slot && slot !== 'peer') this.move(raw, slot, 'peer');
      return next();
    }
    if (slot === 'overflow') {
      res.setHeader('connection', 'close');
      if (probes.has(req.path)) return next();
      this.refused.connections++;
      return sendError(res, new HttpError(503, OverloadedCode, `too many client connections: this node serves at most ${this.opts.maxClientConnections} at once (--max-client-connections); retry later`));
    }
    if (probes.has(req.path)) return next();
    if (this.inflight >= this.opts.maxInflightRequests) {
      this.refused.inflight++;
      return sendError(res, new HttpError(503, OverloadedCode, `too many requests in flight: this node serves at most ${this.opts.maxInflightRequests} at once (--max-inflight-requests); retry later`));
    }
    this.inflight++;
    res.once('close', () => this.inflight--);
    next();
  };

  stats(): AdmissionStats {
    return {
      clientConnections: this.counts.client,
      overflowConnections: this.counts.overflow,
      peerConnections: this.counts.peer,
      inflightRequests: this.inflight,
      refused: { ...this.refused },
      acceptErrors: { ...this.acceptErrors },
    };
  }

  private onConnection(socket: Socket): void {
    const { maxClientConnections, overflowConnections, peerConnections } = this.opts;
    let slot: Slot;
    if (this.counts.client < maxClientConnections) slot = 'client';
    // Over the cap: a client is told 503, a peer (known by its first request) moves on.
    else if (this.counts.overflow + this.counts.peer < overflowConnections + peerConnections) slot = 'overflow';
    else {
      // Closing now frees the descriptor at once: the fds RocksDB needs stay free.
      this.refused.accept++;
      socket.destroy();
      return;
    }
    this.slots.set(socket, slot);
    this.counts[slot]++;
    socket.once('close', () => {
      const s = this.slots.get(socket);
      if (s) this.counts[s]--;
      this.slots.delete(socket);
    });
    if (slot === 'overflow') {
      const timer = setTimeout(() => {
        if (this.slots.get(socket) === 'overflow') socket.destroy();
      }, this.opts.overflowGraceMs ?? 1000);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    }
  }

  private move(socket: Socket, from: Slot, to: Slot): void {
    this.counts[from]--;
    this.counts[to]++;
    this.slots.set(socket, to);
  }

  private onAcceptError(err: NodeJS.ErrnoException): void {
    const code = err.code ?? 'UNKNOWN';
    this.acceptErrors[code] = (this.acceptErrors[code] ?? 0) + 1;
    const now = Date.now();
    // One line a second at most: a flood of refused connections must not become a flood of logs.
    if (now - this.lastAcceptErrorLog < 1000) return;
    this.lastAcceptErrorLog = now;
    this.opts.logger.warn({ err, code, acceptErrors: this.acceptErrors[code] }, 'could not accept a connection (out of file descriptors?); the node keeps running');
  }
}
