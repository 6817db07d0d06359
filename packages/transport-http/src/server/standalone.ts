import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ErrorCode, RaftError } from '@raftkit/core';
import { HttpErrorCode } from '../errors.js';
import type { HttpTlsOptions } from '../options.js';
import { rejection, sendError } from './respond.js';
import type { RaftMiddleware } from './router.js';

export interface StandaloneServer {
  readonly server: http.Server;
  /** Base URL peers use to reach this node, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves a request without routing when it can (true), as `HttpTransport.handleRequest`. */
export type RawHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

function pathOf(req: http.IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * The whole standalone app: the raw handler, then the middleware (same matching as when it is
 * mounted in express), then a coded 404; an error anywhere is a coded 500.
 */
function createListener(middleware: RaftMiddleware, raw: RawHandler, onError: (error: Error) => void): http.RequestListener {
  const fail = (res: http.ServerResponse, err: unknown): void => {
    onError(err instanceof Error ? err : new Error(String(err)));
    res.sendDate = false;
    sendError(res, rejection(HttpErrorCode.Internal, 'internal error'));
  };
  return (req, res) => {
    try {
      if (raw(req, res)) return;
      middleware(req, res, (err?: unknown) => {
        if (err !== undefined) return fail(res, err);
        res.sendDate = false;
        sendError(res, rejection(HttpErrorCode.NotFound, `no route ${req.method ?? ''} ${pathOf(req)}`));
      });
    } catch (err) {
      fail(res, err);
    }
  };
}

function createServer(listener: http.RequestListener, tls: HttpTlsOptions | undefined): http.Server {
  const ca = tls?.ca as string | Buffer | Array<string | Buffer> | undefined;
  const mutual = tls?.mutual === true;
  const server = !tls?.key || !tls.cert
    ? http.createServer(listener)
    : https.createServer({ key: tls.key, cert: tls.cert, ca, requestCert: mutual, rejectUnauthorized: mutual }, listener);
  // Requests with `Expect: 100-continue` go to the handler unanswered, so it can refuse one
  // (too large, unauthenticated, busy) before the client sends the body.
  server.on('checkContinue', listener);
  return server;
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets would otherwise hold close() open until they time out.
    server.closeAllConnections();
  });
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: HttpTlsOptions;
  /** Told about an unexpected failure that was answered with 500. */
  readonly onError: (error: Error) => void;
}

/**
 * Serves `raw` (first) and `middleware` on host:port with plain node:http(s), over https when
 * `tls` has a key and certificate.
 */
export async function serveMiddleware(middleware: RaftMiddleware, raw: RawHandler, options: ServeOptions): Promise<StandaloneServer> {
  const server = createServer(createListener(middleware, raw, options.onError), options.tls);
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => reject(new RaftError(ErrorCode.InvalidConfig, `cannot listen on ${options.host}:${options.port}: ${err.message}`, { cause: err }));
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return { server, url: `${scheme}://${hostForUrl(options.host)}:${port}`, close: () => closeServer(server) };
}
