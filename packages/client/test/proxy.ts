import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** What to do with one request once the upstream answered: pass it on, or lose it. */
export type Fate = 'pass' | 'drop' | '504';

/**
 * A proxy in front of one upstream that sends every request on, then, as `fate` says, passes
 * the answer back, drops the connection without one (a lost response), or answers
 * `504 SERVER_OUTCOME_UNKNOWN` in its place, as a forwarding follower does when its leader
 * went silent. Either way the upstream has applied the request.
 */
export async function lossyProxy(upstream: string, fate: (req: Seen, n: number) => Fate): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const s: Seen = { method: req.method!, path: req.url!, headers: req.headers };
    seen.push(s);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length') headers[k] = v;
    let up: Response;
    let body: Buffer;
    try {
      up = await fetch(`${upstream}${req.url}`, { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}), redirect: 'manual' });
      body = Buffer.from(await up.arrayBuffer());
    } catch {
      // The upstream connection failed (e.g. a kept-alive socket the server closed just as it
      // was reused): the client sees a dropped connection, as with 'drop'.
      req.socket.destroy();
      return;
    }
    const f = fate(s, seen.length);
    if (f === 'drop') {
      req.socket.destroy();
      return;
    }
    if (f === '504') {
      res.writeHead(504, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'SERVER_OUTCOME_UNKNOWN', message: 'the leader did not answer', leaderUrl: upstream } }));
      return;
    }
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
