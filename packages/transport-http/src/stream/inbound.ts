import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import type { AuthClaim } from '../auth.js';
import { HttpErrorCode } from '../errors.js';
import { RaftHeaders, STREAM_CONTENT_TYPE } from '../protocol.js';
import { checkClaim, mediaType } from '../server/headerChecks.js';
import { type Rejection, rejection, sendError } from '../server/respond.js';
import { type InboundContext, checkBody, deliver } from '../server/router.js';
import { AckWriter, ackKeyOf } from './acks.js';
import { FrameDecoder, FrameError, FrameKind } from './frames.js';
import { NONCE_PATTERN, verifyOpen } from './streamAuth.js';

/** A refused stream's socket is destroyed after this long if the sender keeps it open. */
const LINGER_MS = 1000;
/** Frames taken are acknowledged this long after the first of them (stream/acks.ts). */
export const ACK_DELAY_MS = 50;

/**
 * The streams open to this node, at most one per peer. A newer stream or a per-request message
 * from the same peer supersedes the open one: it is closed and nothing more is delivered from
 * it, so messages from one sender never arrive out of send order across a switch of path.
 */
export class InboundStreams {
  private readonly open = new Map<NodeId, () => void>();

  get size(): number {
    return this.open.size;
  }

  /** Registers a stream's closer, superseding the peer's previous stream. */
  add(peer: NodeId, close: () => void): void {
    this.supersede(peer);
    this.open.set(peer, close);
  }

  /** Forgets the stream `close` belongs to, if it is still the peer's current one. */
  remove(peer: NodeId, close: () => void): void {
    if (this.open.get(peer) === close) this.open.delete(peer);
  }

  supersede(peer: NodeId): void {
    const close = this.open.get(peer);
    if (!close) return;
    this.open.delete(peer);
    close();
  }

  closeAll(): void {
    for (const peer of [...this.open.keys()]) this.supersede(peer);
  }
}

function checkOpen(ctx: InboundContext, req: IncomingMessage): { rejection: Rejection } | { claim: AuthClaim; key: Buffer } {
  if (req.method !== 'POST') return { rejection: rejection(HttpErrorCode.MethodNotAllowed, `${req.method} is not allowed, use POST`, { allow: 'POST' }) };
  if (!ctx.accepting()) return { rejection: rejection(HttpErrorCode.Unavailable, `node ${ctx.id} is not accepting messages`) };
  if (mediaType(req) !== STREAM_CONTENT_TYPE) return { rejection: rejection(HttpErrorCode.UnsupportedMediaType, `content-type must be ${STREAM_CONTENT_TYPE}`) };
  const claim = checkClaim(ctx, req);
  if (!claim.ok) return { rejection: claim.rejection };
  const nonce = req.headers[RaftHeaders.streamNonce];
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) {
    return { rejection: rejection(HttpErrorCode.Unauthorized, `${RaftHeaders.streamNonce} must be 32 lowercase hex digits`) };
  }
  const key = verifyOpen(ctx.secret, claim.value, nonce);
  if (!key) {
    ctx.alarms.badSignature(claim.value.from);
    return { rejection: rejection(HttpErrorCode.Unauthorized, 'stream open signature does not match') };
  }
  if (!ctx.nonces.remember(nonce, Date.now())) return { rejection: rejection(HttpErrorCode.Unauthorized, 'stream nonce already used (a replayed stream open)') };
  return { claim: claim.value, key };
}

/**
 * Serves `POST /raft/v1/stream`: authenticates the open, answers 200 at once (the sender waits
 * for it before its first frame, so an older peer's 404 costs no messages), then decodes frames
 * as they arrive and delivers each batch exactly as a per-request body: the same decoding,
 * sender and addressee checks, codes and stats. The first bad frame ends the stream with a
 * coded JSON error as the response body; a clean end of the request ends the response (empty,
 * or with acks only). A sender that asks for acks gets one within ACK_DELAY_MS of the frames it
 * covers, so it can tell a live stream from a dead one.
 */
export function handleStream(ctx: InboundContext, req: IncomingMessage, res: ServerResponse): void {
  res.sendDate = false;
  ctx.stats.inboundRequests += 1;
  const opened = checkOpen(ctx, req);
  if ('rejection' in opened) {
    ctx.stats.reject(opened.rejection.code);
    return sendError(res, { ...opened.rejection, headers: { ...opened.rejection.headers, connection: 'close' } });
  }
  const { claim, key } = opened;
  const { from } = claim;
  const decoder = new FrameDecoder(key, ctx);
  const acks = req.headers[RaftHeaders.streamAcks] === '1' ? new AckWriter(ackKeyOf(key), (record) => res.write(record), ACK_DELAY_MS) : null;
  let done = false;
  const stop = (): void => {
    if (done) return;
    done = true;
    acks?.stop();
    ctx.streams.remove(from, close);
    req.removeListener('data', onData);
    req.resume();
  };
  // Superseded or closed: end it now, nothing more is delivered.
  const close = (): void => {
    stop();
    res.end();
    req.socket?.destroy();
  };
  const fail = (r: Rejection): void => {
    stop();
    ctx.stats.reject(r.code);
    if (r.code === HttpErrorCode.Unauthorized) ctx.alarms.badSignature(from);
    res.end(JSON.stringify({ error: { code: r.code, message: r.message } }));
    setTimeout(() => req.socket?.destroy(), LINGER_MS).unref();
  };
  const onData = (chunk: Buffer): void => {
    if (done) return;
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      if (err instanceof FrameError) return fail(err.rejection);
      throw err;
    }
    for (const frame of frames) {
      // A request is refused once its sender stops being a peer; so is each later frame.
      if (!ctx.isPeer(from)) return fail(rejection(HttpErrorCode.UnknownPeer, `${from} is no longer a peer of ${ctx.id}`));
      const checked = checkBody(ctx, { claim, declared: frame.payload.length, snapshot: frame.kind === FrameKind.snapshot }, frame.payload);
      if (!checked.ok) return fail(checked.rejection);
      const handler = ctx.handler();
      if (!handler) return fail(rejection(HttpErrorCode.Unavailable, `node ${ctx.id} closed`));
      const counters = ctx.stats.peer(from);
      counters.received += checked.value.length;
      counters.bytesReceived += frame.payload.length;
      deliver(ctx, handler, checked.value);
      if (done) return;
      acks?.took(1);
    }
  };
  ctx.streams.add(from, close);
  const ackHeaders = acks ? { [RaftHeaders.streamAcks]: '1' } : {};
  res.writeHead(200, { 'content-type': 'application/json', connection: 'close', ...ackHeaders });
  res.flushHeaders();
  req.on('data', onData);
  req.on('end', () => {
    if (done) return;
    if (!decoder.idle) return fail(rejection(ErrorCode.BadMessage, 'stream ended in the middle of a frame'));
    stop();
    res.end();
  });
  req.on('close', stop);
  req.on('error', stop);
}
