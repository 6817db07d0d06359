/**
 * A proxy on one node's inbound peer link (its peers are given the proxy's URL for it) that can
 * cut the link or refuse large bodies: while `cut`, every request is dropped by closing its
 * connection, as a network partition would; with `refuseOver` set, a request whose body is
 * longer is answered 413 (as transport-http once did for snapshots over 64 MiB). The node's
 * own outbound traffic and its client port are untouched.
 */
import http from 'node:http';

export class PeerLinkProxy {
  /** While true, peer requests to the node are dropped. */
  cut = false;
  /** Requests dropped so far. */
  dropped = 0;
  /** Bodies longer than this are refused with 413; null: none. */
  refuseOver: number | null = null;
  /** Requests refused so far. */
  refused = 0;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly server: http.Server;

  constructor(targetPort: number) {
    this.server = http.createServer((req, res) => {
      if (this.cut) {
        this.dropped++;
        req.socket.destroy();
        return;
      }
      const out = (): http.ClientRequest => {
        const o = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        o.on('error', () => res.destroy());
        return o;
      };
      const limit = this.refuseOver;
      if (limit === null) {
        req.pipe(out());
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (body.length > limit) {
          this.refused++;
          res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'RAFT_HTTP_BODY_TOO_LARGE', message: 'refused by the test proxy' } }));
          return;
        }
        out().end(body);
      });
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
  }

  close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
