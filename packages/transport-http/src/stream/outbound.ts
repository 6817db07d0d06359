import http from 'node:http';
import https from 'node:https';
import type { NodeId } from '@raftkit/core';
import { RaftHeaders, STREAM_CONTENT_TYPE } from '../protocol.js';
import { type PostOutcome, describeStatus } from '../client/request.js';
import { AckDecoder, AckError, ackKeyOf } from './acks.js';
import { type FrameKind, encodeFrame } from './frames.js';
import { openStream } from './streamAuth.js';

export interface StreamSettings {
  readonly self: NodeId;
  readonly peer: NodeId;
  readonly secret: Buffer;
  readonly timeoutMs: number;
  /** The open fails if the peer's 200 takes longer than this (a proxy that buffers bodies). */
  readonly openTimeoutMs: number;
  /** With a peer that acks: the stream fails if frames stay unacknowledged this long. */
  readonly ackTimeoutMs: number;
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

/** Time to move `bytes` at 8 MiB/s, as a request body gets. */
function transferMs(bytes: number): number {
  return Math.ceil((bytes / (8 * 1024 * 1024)) * 1000);
}

/**
 * The sending side of one stream: a chunked `POST <peer>/raft/v1/stream` kept open, each write
 * one MAC'd frame. It writes nothing before the peer's 200, and gives up on the open after
 * `openTimeoutMs` (an older peer's 404/405, or a proxy that buffers request bodies and so never
 * answers, costs no frames and at most that delay). A write the socket does not drain within
 * the timeout breaks the stream; so do frames the peer has not acknowledged within
 * `ackTimeoutMs` (stream/acks.ts), which finds a peer that vanished without closing the
 * connection while its socket still seems to drain.
 */
export class OutboundStream {
  state: 'opening' | 'open' | 'ending' | 'ended' = 'opening';
  private readonly req: http.ClientRequest;
  private readonly key: Buffer;
  private counter = 0;
  private timer: NodeJS.Timeout | null = null;
  /** A write returned false and 'drain' has not come yet. */
  blocked = false;
  /** Set once the peer's 200 says it sends acks. */
  private acks: AckDecoder | null = null;
  /** Invariant: acked <= counter; the sizes of frames acked..counter-1, oldest first. */
  private acked = 0;
  private unacked: number[] = [];
  private ackTimer: NodeJS.Timeout | null = null;
  /** The peer's answer to the open has begun. */
  private responded = false;

  constructor(
    url: URL,
    agent: http.Agent,
    private readonly settings: StreamSettings,
    private readonly events: StreamEvents,
  ) {
    const open = openStream(settings.secret, settings.self, settings.peer, Date.now());
    this.key = open.key;
    const send = url.protocol === 'https:' ? https.request : http.request;
    const headers = { 'content-type': STREAM_CONTENT_TYPE, ...open.headers, [RaftHeaders.streamAcks]: '1' };
    this.req = send(url, { method: 'POST', agent, headers });
    this.arm(`no answer to the stream open within ${settings.openTimeoutMs} ms`, settings.openTimeoutMs);
    this.req.on('response', (res) => this.answered(res));
    this.req.on('close', () => {
      if (this.state !== 'ended' && !this.responded) this.lost('the connection closed before the peer answered the open');
    });
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
    if (this.acks) {
      this.unacked.push(payload.byteLength);
      if (!this.ackTimer) this.armAck();
    }
    if (!drained) {
      this.blocked = true;
      // A large frame gets time to move at 8 MiB/s, as a request body would.
      this.arm(`the stream did not drain within ${this.settings.timeoutMs} ms`, this.settings.timeoutMs + transferMs(payload.byteLength));
    }
    return drained;
  }

  /** Ends the request body; `ended({ clean: true })` once the peer has taken every frame. */
  end(): void {
    if (this.state !== 'open' && this.state !== 'opening') return;
    this.state = 'ending';
    this.arm(`the stream's end was not answered within ${this.settings.timeoutMs} ms`, this.settings.timeoutMs);
    this.req.end();
  }

  /**
   * False once the stream cannot carry a frame; a stream found dead here ends (`ended` is called
   * before this returns), so its caller sends by request instead of writing into it.
   */
  alive(): boolean {
    if (this.state !== 'open') return false;
    if (!this.req.destroyed && !(this.req.socket?.destroyed ?? false)) return true;
    this.lost('the connection is gone');
    return false;
  }

  /** Drops the stream at once; no event follows. */
  destroy(): void {
    this.state = 'ended';
    this.disarm();
    this.disarmAck();
    this.req.destroy();
  }

  private answered(res: http.IncomingMessage): void {
    this.responded = true;
    const status = res.statusCode ?? 0;
    if (status === 200 && res.headers[RaftHeaders.streamAcks] === '1') this.acks = new AckDecoder(ackKeyOf(this.key));
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (this.acks) return this.takeAcks(chunk);
      if (size >= MAX_ANSWER_BYTES) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    // A peer that dies while the stream is idle closes the connection mid-response: Node emits
    // 'aborted', 'error' and 'close' on the response but no 'end', and no 'error' on the request.
    res.on('error', () => undefined);
    res.on('close', () => {
      if (!res.complete) this.lost('the connection closed before the peer ended the stream');
    });
    res.on('end', () => {
      const body = this.acks ? this.acks.errorText : Buffer.concat(chunks).toString('utf8');
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

  private takeAcks(chunk: Buffer): void {
    if (this.state === 'ended') return;
    let counts: number[];
    try {
      counts = this.acks!.push(chunk);
    } catch (err) {
      if (!(err instanceof AckError)) throw err;
      return this.finish({ clean: false, outcome: { ok: false, kind: 'network', detail: err.message } });
    }
    for (const count of counts) {
      if (count < this.acked || count > this.counter) {
        return this.finish({ clean: false, outcome: { ok: false, kind: 'network', detail: `the peer acknowledged ${count} frames after ${this.acked}, of ${this.counter} written` } });
      }
      this.unacked.splice(0, count - this.acked);
      this.acked = count;
    }
    if (counts.length === 0) return;
    this.disarmAck();
    if (this.unacked.length > 0) this.armAck();
  }

  /** Frames are out unacknowledged: the peer must ack them in time (and time to move them). */
  private armAck(): void {
    const bytes = this.unacked.reduce((sum, n) => sum + n, 0);
    const ms = this.settings.ackTimeoutMs + transferMs(bytes);
    const first = this.acked;
    this.ackTimer = setTimeout(() => {
      const detail = `frame #${first} not acknowledged by the peer within ${ms} ms`;
      this.finish({ clean: false, outcome: { ok: false, kind: 'timeout', detail } });
    }, ms);
    this.ackTimer.unref();
  }

  private disarmAck(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }

  private lost(detail: string): void {
    this.finish({ clean: false, outcome: { ok: false, kind: 'network', detail } });
  }

  private finish(end: StreamEnd): void {
    if (this.state === 'ended') return;
    this.destroy();
    this.events.ended(end);
  }

  private arm(detail: string, ms: number): void {
    this.disarm();
    this.timer = setTimeout(() => this.finish({ clean: false, outcome: { ok: false, kind: 'timeout', detail } }), ms);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
