/**
 * A proxy on one node's inbound peer link (its peers are given the proxy's URL for it) that can
 * cut the link or refuse large bodies: while `cut`, every request is dropped by closing its
 * connection, as a network partition would; with `refuseOver` set, a request whose body is
 * longer is answered 413 (as transport-http once did for snapshots over 64 MiB). The node's
 * own outbound traffic and its client port are untouched.
 *
 * Streaming peer links (`POST /raft/v1/stream`, with --peer-stream) pass through as they
 * arrive, frame by frame: a body-buffering proxy would hold a stream's open for ever. The same
 * rules hold per frame (kind u8 | length u32 | payload | 32-byte MAC, see transport-http's
 * stream/frames.ts): a frame whose payload is longer than `refuseOver` cuts its stream (a proxy
 * cannot answer 413 once the 200 has gone; the sender falls back to requests, which get the
 * 413), and setting `cut` closes the open streams too.
 */
import http from 'node:http';

const STREAM_PATH = '/raft/v1/stream';
const FRAME_HEADER_BYTES = 5;
const FRAME_MAC_BYTES = 32;

/** Follows frame boundaries in a stream's bytes; `push` returns the payload lengths of the frames whose headers it completes. */
class FrameLengths {
  private header = Buffer.alloc(0);
  /** Bytes of the current frame's payload and MAC still to pass. */
  private skip = 0;

  push(chunk: Buffer): number[] {
    const lengths: number[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      const n = Math.min(FRAME_HEADER_BYTES - this.header.length, chunk.length - at);
      this.header = Buffer.concat([this.header, chunk.subarray(at, at + n)]);
      at += n;
      if (this.header.length < FRAME_HEADER_BYTES) break;
      const length = this.header.readUInt32BE(1);
      lengths.push(length);
      this.skip = length + FRAME_MAC_BYTES;
      this.header = Buffer.alloc(0);
    }
    return lengths;
  }
}

export class PeerLinkProxy {
  private cutNow = false;
  /** Requests (and streams) dropped so far. */
  dropped = 0;
  /** Bodies (and stream frames) longer than this are refused; null: none. */
  refuseOver: number | null = null;
  /** Requests (and stream frames) refused so far. */
  refused = 0;
  /** Streams opened through the proxy, and those cut for a frame over `refuseOver`. */
  streamsOpened = 0;
  streamsCut = 0;
  /** Streams passing through; each closer destroys both sides. */
  private readonly streams = new Set<() => void>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly server: http.Server;

  /** While true, peer requests to the node are dropped, and streams are closed. */
  get cut(): boolean {
    return this.cutNow;
  }

  set cut(value: boolean) {
    this.cutNow = value;
    if (!value) return;
    for (const close of [...this.streams]) {
      this.dropped++;
      close();
    }
  }

  constructor(private readonly targetPort: number) {
    this.server = http.createServer((req, res) => {
      if (this.cutNow) {
        this.dropped++;
        req.socket.destroy();
        return;
      }
      if (req.url?.split('?')[0]?.toLowerCase().startsWith(STREAM_PATH)) return this.stream(req, res);
      const limit = this.refuseOver;
      if (limit === null) {
        req.pipe(this.forward(req, res));
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
        this.forward(req, res).end(body);
      });
    });
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): http.ClientRequest {
    const o = http.request({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    o.on('error', () => res.destroy());
    return o;
  }

  /** A stream, passed on as it arrives (no keep-alive agent: it holds its own connection). */
  private stream(req: http.IncomingMessage, res: http.ServerResponse): void {
    const o = http.request({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers, agent: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      res.flushHeaders();
      r.pipe(res);
    });
    const close = (): void => {
      this.streams.delete(close);
      o.destroy();
      req.socket.destroy();
    };
    this.streams.add(close);
    this.streamsOpened++;
    o.on('error', close);
    o.on('close', close);
    req.on('close', close);
    o.flushHeaders();
    const frames = new FrameLengths();
    req.on('data', (chunk: Buffer) => {
      const limit = this.refuseOver;
      const lengths = frames.push(chunk);
      if (limit !== null && lengths.some((length) => length > limit)) {
        this.refused++;
        this.streamsCut++;
        return close();
      }
      o.write(chunk);
    });
    req.on('end', () => o.end());
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
  }

  close(): Promise<void> {
    for (const close of [...this.streams]) close();
    this.agent.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
