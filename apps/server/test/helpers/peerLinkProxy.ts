/**
 * A proxy on one node's inbound peer link (its peers are given the proxy's URL for it) that can
 * cut the link: while cut, every request is dropped by closing its connection, as a network
 * partition would. The node's own outbound traffic and its client port are untouched.
 */
import http from 'node:http';

export class PeerLinkProxy {
  /** While true, peer requests to the node are dropped. */
  cut = false;
  /** Requests dropped so far. */
  dropped = 0;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly server: http.Server;

  constructor(targetPort: number) {
    this.server = http.createServer((req, res) => {
      if (this.cut) {
        this.dropped++;
        req.socket.destroy();
        return;
      }
      const out = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
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
