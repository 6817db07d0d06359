/**
 * `GET /v1/dashboard/members/{id}`: member `id`'s `GET /v1/dashboard`, fetched by this node over
 * the cluster network and answered unchanged. The page at /ui asks its own node for every
 * member through it, so it works wherever that one node is reachable (a `kubectl
 * port-forward`, Compose without hosts entries), not only where the browser can resolve and
 * reach every member's URL.
 *
 * Not an open proxy: the id must be a member of this node's current configuration and the URL
 * is this node's own idea of that member's client URL (`--client-urls`, the log, `--peers`);
 * nothing of the request but the id is used. The path fetched is always `/v1/dashboard`.
 */
import http from 'node:http';
import https from 'node:https';
import type { NodeId } from '@raftkit/core';
import { HttpError } from '@raftkit/kv-http/internal';

export const DashboardProxyErrorCode = {
  /** The id is not a member of this node's configuration. */
  MemberNotFound: 'SERVER_MEMBER_NOT_FOUND',
  /** No address known, connection refused, DNS, TLS, a cut-off or non-200 answer. */
  MemberUnreachable: 'SERVER_MEMBER_UNREACHABLE',
  /** No whole answer within the deadline. */
  MemberTimeout: 'SERVER_MEMBER_TIMEOUT',
} as const;

/** A member's answer: its JSON body, byte for byte. */
export interface MemberAnswer {
  readonly body: Buffer;
  readonly contentType: string;
}

export interface DashboardProxyOptions {
  readonly selfId: NodeId;
  /** Ids of the current configuration (voters, outgoing voters, learners). */
  members(): readonly NodeId[];
  /** This node's idea of a member's client URL; null if it knows none. */
  clientUrlOf(id: NodeId): string | null;
  /** Deadline of one member's whole answer (default 1500 ms: the page polls once a second). */
  readonly timeoutMs?: number;
  /** CA to verify https members against (--tls-ca), as the forwarder does. */
  readonly ca?: Buffer;
  /** Largest answer taken (default 8 MiB; a dashboard body is tens of KB). */
  readonly maxBytes?: number;
}

/** Fetches members' dashboards; concurrent asks for one member share one request. */
export class DashboardProxy {
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly inFlight = new Map<NodeId, Promise<MemberAnswer>>();
  // Idle sockets go after 4 s, before a member's 5 s keep-alive timeout closes them.
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: 4000, maxSockets: 4 }),
    'https:': new https.Agent({ keepAlive: true, timeout: 4000, maxSockets: 4 }),
  };

  constructor(private readonly opts: DashboardProxyOptions) {
    this.timeoutMs = opts.timeoutMs ?? 1500;
    this.maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
  }

  /**
   * Member `id`'s dashboard, or an HttpError: 404 for a non-member, 502 when it cannot be
   * reached or answers badly, 504 when no answer comes in time. Never called for this node
   * itself (the route answers that locally).
   */
  fetch(id: NodeId): Promise<MemberAnswer> {
    const members = this.opts.members();
    if (!members.includes(id)) {
      return Promise.reject(new HttpError(404, DashboardProxyErrorCode.MemberNotFound,
        `${JSON.stringify(id)} is not a member of this node's configuration (members: ${members.join(', ') || 'none'})`, { member: id }));
    }
    const url = this.opts.clientUrlOf(id);
    if (url === null) {
      return Promise.reject(new HttpError(502, DashboardProxyErrorCode.MemberUnreachable,
        `member ${id}: this node (${this.opts.selfId}) knows no client URL for it yet`, { member: id, url: null }));
    }
    let p = this.inFlight.get(id);
    if (!p) {
      p = this.get(id, url).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, p);
    }
    return p;
  }

  private get(id: NodeId, base: string): Promise<MemberAnswer> {
    let target: URL;
    try {
      target = new URL('v1/dashboard', base.endsWith('/') ? base : `${base}/`);
    } catch {
      return Promise.reject(this.unreachable(id, base, 'its client URL is not a valid URL'));
    }
    const secure = target.protocol === 'https:';
    return new Promise<MemberAnswer>((resolve, reject) => {
      let settled = false;
      const done = (err: HttpError | null, answer?: MemberAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(answer!);
      };
      const req = (secure ? https : http).request(target, {
        method: 'GET',
        headers: { accept: 'application/json' },
        agent: secure ? this.agents['https:'] : this.agents['http:'],
        ...(this.opts.ca ? { ca: this.opts.ca } : {}),
      });
      const timer = setTimeout(() => {
        done(new HttpError(504, DashboardProxyErrorCode.MemberTimeout,
          `member ${id} at ${base} did not answer GET /v1/dashboard within ${this.timeoutMs} ms`, { member: id, url: base }));
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err) => done(this.unreachable(id, base, reason(err))));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (bytes > this.maxBytes) {
            done(this.unreachable(id, base, `its answer exceeds ${this.maxBytes} bytes`));
            req.destroy();
          } else chunks.push(c);
        });
        res.on('error', (err) => done(this.unreachable(id, base, reason(err))));
        res.on('close', () => res.complete || done(this.unreachable(id, base, 'its answer was cut off')));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const type = String(res.headers['content-type'] ?? '');
          if (res.statusCode !== 200 || !type.includes('json')) {
            done(this.unreachable(id, base, `it answered ${res.statusCode} ${type || '(no content type)'}${errorCodeOf(body)}`));
          } else done(null, { body, contentType: type });
        });
      });
      req.end();
    });
  }

  private unreachable(id: NodeId, url: string, why: string): HttpError {
    return new HttpError(502, DashboardProxyErrorCode.MemberUnreachable,
      `member ${id} at ${url}: GET /v1/dashboard failed (${why}), asked by ${this.opts.selfId}`, { member: id, url });
  }
}

function reason(err: Error & { code?: string }): string {
  return err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
}

/** ` (CODE)` of a coded error body, to say why a member refused. */
function errorCodeOf(body: Buffer): string {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? ` (${code})` : '';
  } catch {
    return '';
  }
}
