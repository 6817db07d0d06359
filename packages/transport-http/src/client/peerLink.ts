import http from 'node:http';
import https from 'node:https';
import type { NodeId } from '@raftkit/core';
import { authHeaders } from '../auth.js';
import { encodeBatch } from '../codec/batch.js';
import { HttpErrorCode, HttpTransportError } from '../errors.js';
import type { BackoffOptions, HttpTlsOptions } from '../options.js';
import { BATCH_CONTENT_TYPE, MESSAGES_PATH } from '../protocol.js';
import type { PeerCounters } from '../stats.js';
import { Backoff } from './backoff.js';
import { type PostOutcome, startPost } from './request.js';

export interface LinkSettings {
  readonly self: NodeId;
  readonly secret: Buffer;
  readonly tls: HttpTlsOptions | undefined;
  readonly timeoutMs: number;
  readonly maxBatchBytes: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly backoff: Required<BackoffOptions>;
  readonly random: () => number;
}

export interface LinkEvents {
  /** Called from I/O callbacks, never from inside `enqueue`. */
  unreachable(peer: NodeId): void;
  error(error: Error): void;
}

/** The peer's messages endpoint under its base URL (which may carry a mount path). */
function endpointOf(base: URL): URL {
  const url = new URL(base.href);
  url.pathname = url.pathname.replace(/\/+$/, '') + MESSAGES_PATH;
  return url;
}

/**
 * One keep-alive socket per peer is enough: at most one request is in flight, and a single
 * socket keeps requests (and so messages) in order.
 */
function createAgent(url: URL, tls: HttpTlsOptions | undefined): http.Agent {
  const common = { keepAlive: true, maxSockets: 1, noDelay: true };
  if (url.protocol !== 'https:') return new http.Agent(common);
  const ca = tls?.ca as string | Buffer | Array<string | Buffer> | undefined;
  const identity = tls?.mutual ? { key: tls.key, cert: tls.cert } : {};
  return new https.Agent({ ...common, ca, ...identity });
}

/**
 * The outbound side of one peer: a bounded queue of encoded messages and at most one request
 * in flight. Everything queued while a request is out goes in the next one, so order is kept
 * and batches grow with load. A failure drops what was queued and backs off; while backing
 * off new messages are dropped at once (Raft retransmits; a dead peer must not hoard memory).
 */
export class PeerLink {
  readonly url: URL;
  readonly backoff: Backoff;
  private readonly endpoint: URL;
  private readonly agent: http.Agent;
  /** Invariant: queuedBytes is the sum of the queued frames' lengths. */
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private cancelInflight: (() => void) | null = null;
  private flushSoon: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(
    readonly peer: NodeId,
    url: URL,
    private readonly settings: LinkSettings,
    readonly counters: PeerCounters,
    private readonly events: LinkEvents,
  ) {
    this.url = url;
    this.endpoint = endpointOf(url);
    this.agent = createAgent(url, settings.tls);
    this.backoff = new Backoff(settings.backoff, settings.random);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues encoded messages. Returns false if they were dropped because the peer is backing off. */
  enqueue(frames: readonly Uint8Array[]): boolean {
    if (this.closed) return true;
    if (this.backoff.active(performance.now())) {
      this.counters.dropped += frames.length;
      return false;
    }
    for (const frame of frames) {
      this.queue.push(frame);
      this.queuedBytes += frame.byteLength;
    }
    this.trimOverflow();
    // Wait for the rest of this tick's sends, so they share one request.
    if (!this.cancelInflight && !this.flushSoon) this.flushSoon = setImmediate(() => this.flush());
    return true;
  }

  /** Drops pending messages, aborts the request in flight and closes the peer's sockets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushSoon = null;
    this.cancelInflight?.();
    this.cancelInflight = null;
    this.dropQueue();
    this.agent.destroy();
  }

  /** Drops the oldest messages beyond the bounds, always keeping the newest one. */
  private trimOverflow(): void {
    const { maxQueuedMessages, maxQueuedBytes } = this.settings;
    let drop = 0;
    let bytes = this.queuedBytes;
    while (drop < this.queue.length - 1 && (this.queue.length - drop > maxQueuedMessages || bytes > maxQueuedBytes)) {
      bytes -= this.queue[drop].byteLength;
      drop += 1;
    }
    if (drop === 0) return;
    this.queue.splice(0, drop);
    this.queuedBytes = bytes;
    this.counters.dropped += drop;
  }

  /** Takes messages from the front up to maxBatchBytes (at least one). */
  private takeBatch(): Uint8Array[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && (count === 0 || bytes + this.queue[count].byteLength <= this.settings.maxBatchBytes)) {
      bytes += this.queue[count].byteLength;
      count += 1;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, count);
  }

  private flush(): void {
    this.flushSoon = null;
    if (this.closed || this.cancelInflight || this.queue.length === 0) return;
    const frames = this.takeBatch();
    const body = encodeBatch(frames);
    const headers = {
      'content-type': BATCH_CONTENT_TYPE,
      'content-length': String(body.byteLength),
      ...authHeaders(this.settings.secret, this.settings.self, this.peer, body, Date.now()),
    };
    this.counters.requests += 1;
    this.counters.bytesSent += body.byteLength;
    const post = { url: this.endpoint, agent: this.agent, headers, body, timeoutMs: this.settings.timeoutMs };
    this.cancelInflight = startPost(post, (outcome) => this.settle(outcome, frames.length));
  }

  private settle(outcome: PostOutcome, count: number): void {
    this.cancelInflight = null;
    if (this.closed) return;
    if (outcome.ok) {
      this.counters.sent += count;
      this.backoff.succeeded();
      this.flush();
      return;
    }
    this.counters.failures += 1;
    this.counters.dropped += count;
    this.dropQueue();
    this.backoff.failed(performance.now());
    if (outcome.kind === 'status') {
      const message = `peer ${this.peer} refused ${count} messages: ${outcome.detail}`;
      this.events.error(new HttpTransportError(HttpErrorCode.PeerRejected, message, { status: outcome.status }));
    }
    this.events.unreachable(this.peer);
  }

  private dropQueue(): void {
    this.counters.dropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }
}
