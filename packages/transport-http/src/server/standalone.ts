import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ErrorCode, RaftError } from '@raftkit/core';
import { HttpErrorCode } from '../errors.js';
import type { HttpTlsOptions } from '../options.js';
import { rejection, sendError } from './respond.js';

export interface StandaloneServer {
  readonly server: http.Server;
  /** Base URL peers use to reach this node, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  close(): Promise<void>;
}

/** An express app with only the raft router, answering everything else with coded errors. */
function createApp(router: Router): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(router);
  app.use((req: Request, res: Response) => {
    res.sendDate = false;
    sendError(res, rejection(HttpErrorCode.NotFound, `no route ${req.method} ${req.path}`));
  });
  app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.sendDate = false;
    sendError(res, rejection(HttpErrorCode.Internal, 'internal error'));
  });
  return app;
}

/** Serves a request without express when it can (true), as `HttpTransport.handleRequest`. */
export type RawHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

function createServer(app: express.Express, raw: RawHandler, tls: HttpTlsOptions | undefined): http.Server {
  const ca = tls?.ca as string | Buffer | Array<string | Buffer> | undefined;
  const mutual = tls?.mutual === true;
  // The messages endpoint is answered without express; the app gets everything else.
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!raw(req, res)) app(req, res);
  };
  const server = !tls?.key || !tls.cert
    ? http.createServer(listener)
    : https.createServer({ key: tls.key, cert: tls.cert, ca, requestCert: mutual, rejectUnauthorized: mutual }, listener);
  // Requests with `Expect: 100-continue` go to the router unanswered, so it can refuse one
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

/**
 * Serves `raw` (first) and `router` on host:port, over https when `tls` has a key and
 * certificate.
 */
export async function serveRouter(router: Router, raw: RawHandler, options: { host: string; port: number; tls?: HttpTlsOptions }): Promise<StandaloneServer> {
  const server = createServer(createApp(router), raw, options.tls);
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
