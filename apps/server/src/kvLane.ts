import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';

const KV_KEY_PATH = '/v1/kv/';

/**
 * The client KV key API (`/v1/kv/{key}`: GET, PUT, DELETE, POST .../cas) served without the
 * app's router. Its walk over the app's layers before it reached the KV router (matching each
 * layer, processing parameters, trimming the path, one dispatch per layer) was about 8% of the
 * leader's CPU under lease reads at c=64, more than the KV handler's own synchronous work
 * (issue 11). `chain` is what such a request passes in the app, in the same order (the server's
 * gates, then the KV router). `finish` answers what `chain` passes on: an error, or nothing
 * (404), as the app's last two handlers do.
 *
 * Returns false for any other request, which is the app's. A request taken here first gets
 * what `app.handle` gives one before its router: the request and response linked to each other,
 * express's prototypes, `res.locals`, and `req.originalUrl`/`req.baseUrl` as the router sets
 * them at the root.
 */
export function kvLane(
  app: Express,
  chain: RequestHandler,
  finish: (req: Request, res: Response, err?: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (incoming, outgoing) => {
    const url = incoming.url;
    if (url === undefined || !url.startsWith(KV_KEY_PATH)) return false;
    const req = incoming as Request;
    const res = outgoing as Response;
    req.res = res;
    res.req = req;
    // Born with them already when the server was made with expressServerClasses(app).
    if (Object.getPrototypeOf(req) !== app.request) Object.setPrototypeOf(req, app.request);
    if (Object.getPrototypeOf(res) !== app.response) Object.setPrototypeOf(res, app.response);
    res.locals ??= Object.create(null) as Response['locals'];
    req.originalUrl = url;
    req.baseUrl = '';
    const next: NextFunction = (err?: unknown) => finish(req, res, err === 'route' || err === 'router' ? undefined : err);
    void chain(req, res, next);
    return true;
  };
}
