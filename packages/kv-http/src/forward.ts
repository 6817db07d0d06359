/**
 * What a follower does with a request only the leader can serve (follower-mode redirect or
 * forward), and the forwarding itself.
 *
 * A forwarded write that failed can have two very different fates, and the answer says which:
 * - nothing was sent (the connection to the leader could not be made): the write did not
 *   apply; `502 SERVER_FORWARD_FAILED`, safe to retry;
 * - the request went out, at least partly, and no answer came back (the leader died, paused or
 *   timed out mid-request): it may or may not have applied; `504 SERVER_OUTCOME_UNKNOWN`. Only a
 *   retry with the same session tag (x-raftkit-client-id / x-raftkit-seq) resolves that safely.
 *
 * A forwarded request carries `x-raftkit-forwarded-by`; a node that receives one and is not the
 * leader answers `503 SERVER_FORWARD_LOOP` instead of passing it on, so a wrong idea of the
 * leader's URL (one follower's --client-urls pointing at another follower) costs one extra hop,
 * never a loop of requests that ends only when the descriptors run out.
 */
import http from 'node:http';
import https from 'node:https';
import type { NotLeaderError } from '@raftkit/core';
import type { Request, Response } from 'express';
import { HttpError, ServerErrorCode, sendError } from './httpErrors.js';
import { sessionTagOf } from './kvRoutes.js';

export const FORWARDED_BY_HEADER = 'x-raftkit-forwarded-by';

/** Request headers the leader needs to serve a forwarded request as the client meant it. */
const PASSED_HEADERS = ['content-type', 'accept', 'x-raftkit-client-id', 'x-raftkit-seq', 'x-raftkit-first-outstanding'];

export interface ForwardOptions {
  /** This node's id, sent in x-raftkit-forwarded-by. */
  readonly selfId: string;
  /** How long to wait for the leader's whole answer; a bit over its own request deadline. */
  readonly timeoutMs: number;
  /** CA to verify an https leader against (--tls-ca). */
  readonly ca?: Buffer;
}

export interface LeaderRoutingOptions extends ForwardOptions {
  readonly followerMode: 'redirect' | 'forward';
  /** Where clients reach node `id` (--client-urls, else --peers); null if unknown. */
  clientUrlOf(id: string): string | null;
}

/** Turns a NotLeaderError into a redirect, a forwarded request or a loop refusal; false if no leader is known. */
export function notLeaderHandler(opts: LeaderRoutingOptions): (req: Request, res: Response, err: NotLeaderError) => Promise<boolean> {
  const forwarder = new Forwarder(opts);
  return async (req, res, err) => {
    const leader = err.leaderHint;
    const url = leader === null || leader === opts.selfId ? null : opts.clientUrlOf(leader);
    if (!url) return false;
    const from = req.get(FORWARDED_BY_HEADER);
    if (from !== undefined) {
      // Either the leadership just moved, or the forwarding node's --client-urls is wrong.
      const msg = `this request was forwarded here by ${JSON.stringify(from)}, but this node (${opts.selfId}) is not the leader either (it believes the leader is ${leader}, at ${url}); a request is forwarded once at most. Nothing was proposed here: retry, and if this persists check --client-urls on ${JSON.stringify(from)}`;
      sendError(res, new HttpError(503, ServerErrorCode.ForwardLoop, msg, { leader }));
      return true;
    }
    if (opts.followerMode === 'redirect') {
      res.redirect(307, url + req.originalUrl);
      return true;
    }
    await forwarder.forward(req, res, url);
    return true;
  };
}

type Outcome = { kind: 'answer'; status: number; headers: http.IncomingHttpHeaders; body: Buffer } | { kind: 'failed'; sent: boolean; error: Error };

/** Transparent forwarding to the leader (follower-mode forward). */
export class Forwarder {
  // Idle sockets are dropped after 4 s, before the leader's 5 s keep-alive timeout closes them
  // from its side: a request written into a socket the leader is closing has an unknown fate.
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: 4000 }),
    'https:': new https.Agent({ keepAlive: true, timeout: 4000 }),
  };

  constructor(private readonly opts: ForwardOptions) {}

  async forward(req: Request, res: Response, leaderUrl: string): Promise<void> {
    const headers: Record<string, string> = { [FORWARDED_BY_HEADER]: this.opts.selfId };
    for (const h of PASSED_HEADERS) {
      const v = req.get(h);
      if (v !== undefined) headers[h] = v;
    }
    sessionTagOf(req); // validated here so a bad header is the follower's 400, not a forwarded one
    let body: Buffer | undefined;
    if (Buffer.isBuffer(req.body)) body = req.body;
    else if (req.body !== undefined && req.method !== 'GET' && req.method !== 'DELETE') body = Buffer.from(JSON.stringify(req.body));
    const out = await this.send(new URL(leaderUrl + req.originalUrl), req.method, headers, body);
    if (out.kind === 'answer') {
      res.status(out.status);
      for (const h of ['content-type', 'retry-after', 'x-raftkit-revision']) {
        const v = out.headers[h];
        if (typeof v === 'string') res.setHeader(h, v);
      }
      res.setHeader('x-raftkit-forwarded-to', leaderUrl);
      res.end(out.body);
      return;
    }
    const why = out.error.message;
    if (out.sent) {
      const msg = `outcome unknown: the request was sent to the leader at ${leaderUrl} and no answer came (${why}); the write may or may not have applied. Retry it with the same session tag (x-raftkit-client-id, x-raftkit-seq) to resolve it safely`;
      sendError(res, new HttpError(504, ServerErrorCode.OutcomeUnknown, msg, { leaderUrl }));
    } else {
      const msg = `forwarding to the leader at ${leaderUrl} failed before anything was sent (${why}); the request did not apply, retrying is safe`;
      sendError(res, new HttpError(502, ServerErrorCode.ForwardFailed, msg, { leaderUrl }));
    }
  }

  /**
   * One request and its whole answer. `sent` turns true once a connection is established (a
   * reused keep-alive socket counts as established): from then on bytes may have reached the
   * leader, so a failure can no longer be called "not applied".
   */
  private send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Outcome> {
    return new Promise((resolve) => {
      let sent = false;
      let settled = false;
      const finish = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const agent = url.protocol === 'https:' ? this.agents['https:'] : this.agents['http:'];
      const lib = url.protocol === 'https:' ? https : http;
      const creq = lib.request(url, { method, headers: { ...headers, 'content-length': String(body?.length ?? 0) }, agent, ...(this.opts.ca ? { ca: this.opts.ca } : {}) });
      const timer = setTimeout(() => creq.destroy(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      creq.on('socket', (socket) => {
        if (creq.reusedSocket || !socket.connecting) sent = true;
        else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => (sent = true));
      });
      creq.on('error', (error) => finish({ kind: 'failed', sent, error }));
      creq.on('response', (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => finish({ kind: 'answer', status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(chunks) }));
        r.on('error', (error) => finish({ kind: 'failed', sent: true, error }));
        r.on('close', () => r.complete || finish({ kind: 'failed', sent: true, error: new Error('the answer was cut off') }));
      });
      creq.end(body);
    });
  }
}
