import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { NodeId } from '@raftkit/core';
import { authHeaders } from '../auth.js';
import { encodeBatch } from '../codec/batch.js';
import { travelsAlone } from '../codec/messages.js';
import { HttpErrorCode, HttpTransportError } from '../errors.js';
import type { BackoffOptions, HttpTlsOptions } from '../options.js';
import { BATCH_CONTENT_TYPE, MESSAGES_PATH, RaftHeaders, STREAM_PATH } from '../protocol.js';
import type { PeerCounters } from '../stats.js';
import { Backoff } from './backoff.js';
import { type PostOutcome, startPost } from './request.js';
import { FrameKind } from '../stream/frames.js';
import { OutboundStream, type StreamEnd } from '../stream/outbound.js';

/** Bodies from this size on wait for `100 Continue`: one round trip, against sending them in vain. */
export const EXPECT_CONTINUE_BYTES = 1024 * 1024;
/** A large body gets this much transfer rate before its request times out (1 s per 8 MiB). */
const MIN_BYTES_PER_SECOND = 8 * 1024 * 1024;

/** An encoded message's first byte is its tag (codec/messages.ts): is it a snapshot chunk? */
function isChunk(frame: Uint8Array): boolean {
  return travelsAlone(frame[0]);
}

/** The request timeout for a body: `timeoutMs`, plus time to move a large body at a slow rate. */
export function timeoutFor(timeoutMs: number, bytes: number): number {
  return timeoutMs + Math.ceil((bytes / MIN_BYTES_PER_SECOND) * 1000);
}

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
  readonly lookup: LookupFunction | undefined;
  /** Send over one long-lived stream (option `stream`), falling back to requests when it fails. */
  readonly stream: boolean;
  /** A stream open not answered 200 within this long falls back to requests (option `streamOpenTimeoutMs`). */
  readonly streamOpenTimeoutMs: number;
  /** Frames a peer has not acknowledged within this long break the stream (option `streamAckTimeoutMs`). */
  readonly streamAckTimeoutMs: number;
  /** How long a stream is used before it is renewed; STREAM_ROTATE_MS unless a test says otherwise. */
  readonly streamRotateMs?: number;
}

/** A stream is ended and a new one opened this often, so no server request timeout cuts one. */
export const STREAM_ROTATE_MS = 60_000;
/** Retrying a failed stream: jittered doubling from 250 ms to 30 s, meanwhile requests carry the messages. */
const STREAM_BACKOFF = { initialMs: 250, maxMs: 30_000 };
/** A stream that lived this long before it broke resets the stream backoff. */
const STREAM_HEALTHY_MS = 10_000;

/** Whether the link is on a stream, opening one, or on requests; `off` without the option. */
export type StreamState = 'off' | 'opening' | 'open' | 'fallback';

/** getaddrinfo's answers for a name that does not resolve (now, or yet). */
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN']);

export interface LinkEvents {
  /** Called from I/O callbacks, never from inside `enqueue`. */
  unreachable(peer: NodeId): void;
  error(error: Error): void;
  /** A request succeeded after one or more failed. */
  recovered(peer: NodeId): void;
}

/** What a refusal by the peer tells the operator; null for backpressure, which is not a fault. */
function refusalError(peer: NodeId, endpoint: URL, count: number, outcome: Extract<PostOutcome, { ok: false }>): HttpTransportError | null {
  const options = { status: outcome.status, peer, peerCode: outcome.code };
  if (outcome.code === HttpErrorCode.Busy) return null;
  // No coded body: whatever answered is not a raftkit peer endpoint (usually a mount path missing).
  if (outcome.code === undefined) {
    const message = `peer ${peer}: no raftkit peer endpoint at ${endpoint.href} (${outcome.detail}): is the peer URL missing the path the peer's router is mounted at?`;
    return new HttpTransportError(HttpErrorCode.PeerEndpointNotFound, message, options);
  }
  if (outcome.status === 413) {
    const message = `peer ${peer} refused ${count} messages as too large (${outcome.detail}); they can never reach it until its maxBodyBytes/maxSnapshotBytes is raised`;
    return new HttpTransportError(HttpErrorCode.MessageTooLarge, message, options);
  }
  return new HttpTransportError(HttpErrorCode.PeerRejected, `peer ${peer} refused ${count} messages: ${outcome.detail}`, options);
}

/** The peer's messages endpoint under its base URL (which may carry a mount path). */
function endpointOf(base: URL, path = MESSAGES_PATH): URL {
  const url = new URL(base.href);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  return url;
}

/**
 * One keep-alive socket per peer is enough: at most one request is in flight, and a single
 * socket keeps requests (and so messages) in order.
 */
function createAgent(url: URL, tls: HttpTlsOptions | undefined, lookup: LookupFunction | undefined): http.Agent {
  // The agent resolves the host for every new connection (no caching): a name that appears
  // later (a pod's DNS record) is found at the first retry after it does.
  const common = { keepAlive: true, maxSockets: 1, noDelay: true, ...(lookup ? { lookup } : {}) };
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
 *
 * A snapshot chunk goes alone in its own request, marked so the peer applies its larger
 * snapshot limit; a heartbeat queued behind chunks waits for each chunk's request, as it would
 * for one large batch. Chunks count toward both queue bounds (all but the newest chunk, see
 * trimOverflow): RaftNode keeps only a few in flight and resends what is lost after a timeout,
 * so dropping the oldest when the queue is full costs a resend, never the transfer.
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
  /** A flush to the open stream is queued as a microtask. */
  private flushQueued = false;
  private closed = false;
  /** The stream in use or being opened, with option `stream`; null while on requests. */
  private stream: OutboundStream | null = null;
  private streamOpenedAt = 0;
  private readonly streamBackoff: Backoff;
  private readonly streamEndpoint: URL;
  private streamAgent: http.Agent | null = null;

  constructor(
    readonly peer: NodeId,
    url: URL,
    private readonly settings: LinkSettings,
    readonly counters: PeerCounters,
    private readonly events: LinkEvents,
  ) {
    this.url = url;
    this.endpoint = endpointOf(url);
    this.agent = createAgent(url, settings.tls, settings.lookup);
    this.backoff = new Backoff(settings.backoff, settings.random);
    this.streamBackoff = new Backoff(STREAM_BACKOFF, settings.random);
    this.streamEndpoint = endpointOf(url, STREAM_PATH);
  }

  get streamState(): StreamState {
    if (!this.settings.stream) return 'off';
    if (this.stream) return this.stream.state === 'open' ? 'open' : 'opening';
    return this.backoff.failures === 0 && this.streamBackoff.failures === 0 ? 'opening' : 'fallback';
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
    if (this.cancelInflight || this.flushSoon || this.flushQueued) return true;
    if (this.stream?.state === 'open') {
      // An open stream takes a frame now: what the caller sends in this same task shares it,
      // and it leaves before the event loop turns (a turn was a measurable share of a write's
      // path on a leader, issue 11). A request waits for the rest of the turn's sends instead.
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    } else {
      // Wait for the rest of this tick's sends, so they share one request.
      this.flushSoon = setImmediate(() => this.flush());
    }
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
    this.stream?.destroy();
    this.stream = null;
    this.dropQueue();
    this.agent.destroy();
    this.streamAgent?.destroy();
  }

  /**
   * Drops the oldest messages beyond the bounds, counting them in `dropped`, always keeping the
   * newest one. The newest chunk is kept too and its bytes do not count (a chunk may be
   * configured larger than maxQueuedBytes, and must not be pushed out by the next heartbeat);
   * every other chunk counts like any message, so memory stays under maxQueuedBytes plus one chunk.
   */
  private trimOverflow(): void {
    const { maxQueuedMessages, maxQueuedBytes } = this.settings;
    if (this.queue.length <= maxQueuedMessages && this.queuedBytes <= maxQueuedBytes) return;
    const last = this.queue.length - 1;
    let chunkAt = last;
    while (chunkAt >= 0 && !isChunk(this.queue[chunkAt])) chunkAt -= 1;
    const exempt = chunkAt >= 0 ? this.queue[chunkAt].byteLength : 0;
    let count = this.queue.length;
    let bytes = this.queuedBytes - exempt;
    if (count <= maxQueuedMessages && bytes <= maxQueuedBytes) return;
    let dropped = 0;
    this.queue = this.queue.filter((frame, i) => {
      if (i === last || i === chunkAt || (count <= maxQueuedMessages && bytes <= maxQueuedBytes)) return true;
      count -= 1;
      bytes -= frame.byteLength;
      dropped += 1;
      return false;
    });
    this.queuedBytes = bytes + exempt;
    this.counters.dropped += dropped;
  }

  /** Takes a snapshot chunk alone, or messages from the front up to maxBatchBytes (at least one). */
  private takeBatch(): { frames: Uint8Array[]; snapshot: boolean } {
    if (isChunk(this.queue[0])) {
      this.queuedBytes -= this.queue[0].byteLength;
      return { frames: this.queue.splice(0, 1), snapshot: true };
    }
    let count = 0;
    let bytes = 0;
    const fits = (frame: Uint8Array): boolean => !isChunk(frame) && (count === 0 || bytes + frame.byteLength <= this.settings.maxBatchBytes);
    while (count < this.queue.length && fits(this.queue[count])) {
      bytes += this.queue[count].byteLength;
      count += 1;
    }
    this.queuedBytes -= bytes;
    return { frames: this.queue.splice(0, count), snapshot: false };
  }

  private flush(): void {
    this.flushSoon = null;
    if (this.closed || this.cancelInflight || this.queue.length === 0) return;
    if (this.settings.stream && this.flushToStream()) return;
    const { frames, snapshot } = this.takeBatch();
    const body = encodeBatch(frames);
    const headers = {
      'content-type': BATCH_CONTENT_TYPE,
      'content-length': String(body.byteLength),
      ...(snapshot ? { [RaftHeaders.snapshot]: '1' } : {}),
      ...authHeaders(this.settings.secret, this.settings.self, this.peer, body, Date.now()),
    };
    this.counters.requests += 1;
    this.counters.bytesSent += body.byteLength;
    const timeoutMs = timeoutFor(this.settings.timeoutMs, body.byteLength);
    const expectContinue = body.byteLength >= EXPECT_CONTINUE_BYTES;
    const post = { url: this.endpoint, agent: this.agent, headers, body, timeoutMs, expectContinue };
    this.cancelInflight = startPost(post, (outcome) => this.settle(outcome, frames.length));
  }

  private settle(outcome: PostOutcome, count: number): void {
    this.cancelInflight = null;
    if (this.closed) return;
    if (outcome.ok) {
      this.counters.sent += count;
      const hadFailed = this.backoff.failures > 0;
      this.backoff.succeeded();
      if (hadFailed) this.events.recovered(this.peer);
      this.flush();
      return;
    }
    this.counters.failures += 1;
    this.counters.dropped += count;
    this.dropQueue();
    this.backoff.failed(performance.now());
    if (outcome.kind === 'status') {
      if (outcome.code === HttpErrorCode.Busy) this.counters.busy += 1;
      if (outcome.status === 413) this.counters.tooLarge += count;
      const error = refusalError(this.peer, this.endpoint, count, outcome);
      if (error) this.events.error(error);
    } else if (outcome.kind === 'network' && outcome.errno !== undefined && UNRESOLVED.has(outcome.errno)) {
      const message = `peer ${this.peer}: host name ${this.url.hostname} does not resolve (${outcome.errno}); retrying with backoff until it does`;
      this.events.error(new HttpTransportError(HttpErrorCode.PeerUnresolved, message, { peer: this.peer }));
    }
    this.events.unreachable(this.peer);
  }

  /**
   * With option `stream`: writes the queue to the open stream (one frame per batch, a snapshot
   * chunk alone in its frame), or waits while one opens, ends or drains, or opens one when the
   * stream backoff allows. Returns false when the messages should go by request instead. Order:
   * a stream opens only with no request in flight (answered requests were delivered), and the
   * receiver stops delivering from a stream once a request or a newer stream from this node
   * arrives, so nothing sent earlier is delivered after something sent later.
   */
  private flushToStream(): boolean {
    const stream = this.stream;
    if (!stream) {
      const now = performance.now();
      if (this.streamBackoff.active(now) || this.backoff.active(now)) return false;
      this.openStream();
      return true;
    }
    if (stream.state !== 'open' || stream.blocked) return true;
    if (performance.now() - this.streamOpenedAt >= (this.settings.streamRotateMs ?? STREAM_ROTATE_MS)) {
      stream.end();
      return true;
    }
    // A dead stream ends inside alive(), and streamEnded has then sent the queue by request.
    while (this.queue.length > 0 && stream.alive()) {
      const { frames, snapshot } = this.takeBatch();
      const body = encodeBatch(frames);
      this.counters.sent += frames.length;
      this.counters.bytesSent += body.byteLength;
      if (!stream.write(snapshot ? FrameKind.snapshot : FrameKind.batch, body)) break;
    }
    return true;
  }

  private openStream(): void {
    this.streamAgent ??= createAgent(this.url, this.settings.tls, this.settings.lookup);
    const { self, secret, timeoutMs, streamOpenTimeoutMs: openTimeoutMs, streamAckTimeoutMs: ackTimeoutMs } = this.settings;
    const settings = { self, peer: this.peer, secret, timeoutMs, openTimeoutMs, ackTimeoutMs };
    const stream = new OutboundStream(this.streamEndpoint, this.streamAgent, settings, {
      opened: () => {
        this.counters.streamsOpened += 1;
        this.streamOpenedAt = performance.now();
        if (this.backoff.failures > 0) this.events.recovered(this.peer);
        this.backoff.succeeded();
        this.flush();
      },
      drained: () => this.flush(),
      ended: (end) => this.streamEnded(stream, end),
    });
    this.stream = stream;
  }

  private streamEnded(stream: OutboundStream, end: StreamEnd): void {
    if (this.stream !== stream || this.closed) return;
    this.stream = null;
    const now = performance.now();
    if (end.clean) {
      // Rotated: the peer took every frame; the next flush opens a new stream.
      this.streamBackoff.succeeded();
      return this.flush();
    }
    const { outcome } = end;
    const wasOpen = this.streamOpenedAt > 0;
    if (wasOpen && now - this.streamOpenedAt >= STREAM_HEALTHY_MS) this.streamBackoff.succeeded();
    this.streamOpenedAt = 0;
    this.streamBackoff.failed(now);
    // An older peer without the route (404/405, or no coded answer at all) is no fault: stay on
    // requests. Nor is an open left unanswered while the peer is up (a proxy that buffers whole
    // bodies): the queue, kept while it opened, goes by request at once, and the next try is late.
    const unsupported = outcome.kind === 'status' && (outcome.code === undefined || outcome.status === 404 || outcome.status === 405);
    const unanswered = !wasOpen && outcome.kind === 'timeout';
    if (unsupported || unanswered) while (this.streamBackoff.currentMs < STREAM_BACKOFF.maxMs / 2) this.streamBackoff.failed(now);
    else if (outcome.kind === 'status') {
      this.counters.failures += 1;
      const error = refusalError(this.peer, this.streamEndpoint, 0, outcome);
      if (error) this.events.error(error);
    } else if (wasOpen) this.counters.failures += 1;
    this.flush();
  }

  private dropQueue(): void {
    this.counters.dropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }
}
