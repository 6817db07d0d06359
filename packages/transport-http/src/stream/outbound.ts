import http from 'node:http';
import https from 'node:https';
import type { NodeId } from '@raftkit/core';
import { STREAM_CONTENT_TYPE } from '../protocol.js';
import { type PostOutcome, describeStatus } from '../client/request.js';
import { type FrameKind, encodeFrame } from './frames.js';
import { openStream } from './streamAuth.js';

export interface StreamSettings {
  readonly self: NodeId;
  readonly peer: NodeId;
  readonly secret: Buffer;
  readonly timeoutMs: number;
}

/** How a stream ended: asked to (`end()`), or broken with the outcome that says why. */
export type StreamEnd = { readonly clean: true } | { readonly clean: false; readonly outcome: Extract<PostOutcome, { ok: false }> };

export interface StreamEvents {
  /** The peer answered 200: frames may be written. */
  opened(): void;
  /** A write that returned false has drained: more may be written. */
  drained(): void;
  /** Called once; nothing more happens after it. */
  ended(end: StreamEnd): void;
}

/** Error answers are small JSON; the rest of a refused stream's body is not read. */
const MAX_ANSWER_BYTES = 4096;

/**
 * The sending side of one stream: a chunked `POST <peer>/raft/v1/stream` kept open, each write
 * one MAC'd frame. It writes nothing before the peer's 200 (an older peer's 404/405, or a proxy
 * that buffers request bodies and so never answers in time, costs no frames). A write the socket
 * does not drain within the timeout breaks the stream, so a dead peer is found without acks.
 */
export class OutboundStream {
  state: 'opening' | 'open' | 'ending' | 'ended' = 'opening';
  private readonly req: http.ClientRequest;
  private readonly key: Buffer;
  private counter = 0;
  private timer: NodeJS.Timeout | null = null;
  /** A write returned false and 'drain' has not come yet. */
  blocked = false;

  constructor(
    url: URL,
    agent: http.Agent,
    private readonly settings: StreamSettings,
    private readonly events: StreamEvents,
  ) {
    const open = openStream(settings.secret, settings.self, settings.peer, Date.now());
    this.key = open.key;
    const send = url.protocol === 'https:' ? https.request : http.request;
    this.req = send(url, { method: 'POST', agent, headers: { 'content-type': STREAM_CONTENT_TYPE, ...open.headers } });
    this.arm(`no answer to the stream open within ${settings.timeoutMs} ms`);
    this.req.on('response', (res) => this.answered(res));
    this.req.on('drain', () => {
      if (this.state === 'ended') return;
      this.blocked = false;
      this.disarm();
      this.events.drained();
    });
    this.req.on('error', (err: NodeJS.ErrnoException) => {
      this.finish({ clean: false, outcome: { ok: false, kind: 'network', detail: `${err.code ?? 'error'}: ${err.message}`, ...(err.code ? { errno: err.code } : {}) } });
    });
    this.req.flushHeaders();
  }

  /** Writes one frame; false when the socket is not draining (wait for `drained`). */
  write(kind: FrameKind, payload: Uint8Array): boolean {
    if (this.state !== 'open') return false;
    const drained = this.req.write(encodeFrame(this.key, this.counter, kind, payload));
    this.counter += 1;
    if (!drained) {
      this.blocked = true;
      // A large frame gets time to move at 8 MiB/s, as a request body would.
      this.arm(`the stream did not drain within ${this.settings.timeoutMs} ms`, payload.byteLength);
    }
    return drained;
  }

  /** Ends the request body; `ended({ clean: true })` once the peer has taken every frame. */
  end(): void {
    if (this.state !== 'open' && this.state !== 'opening') return;
    this.state = 'ending';
    this.arm(`the stream's end was not answered within ${this.settings.timeoutMs} ms`);
    this.req.end();
  }

  /** Drops the stream at once; no event follows. */
  destroy(): void {
    this.state = 'ended';
    this.disarm();
    this.req.destroy();
  }

  private answered(res: http.IncomingMessage): void {
    const status = res.statusCode ?? 0;
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (size >= MAX_ANSWER_BYTES) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    res.on('error', () => undefined);
    res.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (status === 200 && body === '' && this.state === 'ending') return this.finish({ clean: true });
      // A refused open, or a stream the peer ended: with its coded error, if it gave one.
      const detail = body === '' && status === 200 ? { ok: false as const, kind: 'network' as const, detail: 'the peer ended the stream' } : describeStatus(status, body);
      this.finish({ clean: false, outcome: detail as Extract<PostOutcome, { ok: false }> });
    });
    if (status !== 200 || this.state !== 'opening') return;
    this.state = 'open';
    this.disarm();
    this.events.opened();
  }

  private finish(end: StreamEnd): void {
    if (this.state === 'ended') return;
    this.destroy();
    this.events.ended(end);
  }

  private arm(detail: string, bytes = 0): void {
    this.disarm();
    const ms = this.settings.timeoutMs + Math.ceil((bytes / (8 * 1024 * 1024)) * 1000);
    this.timer = setTimeout(() => this.finish({ clean: false, outcome: { ok: false, kind: 'timeout', detail } }), ms);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
