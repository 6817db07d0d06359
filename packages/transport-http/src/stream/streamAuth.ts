import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '@raftkit/core';
import type { AuthClaim } from '../auth.js';
import { RaftHeaders } from '../protocol.js';

/**
 * Authentication of a stream (option `stream`). The open carries the headers of a per-request
 * message (from, to, timestamp, signature) plus a fresh random nonce, signed as
 *
 *   signature = hex(HMAC-SHA256(secret, "raftkit-stream-v1\n" + timestamp + "\n" + from + "\n" + to + "\n" + nonce))
 *
 * under its own domain string, so a message request's signature can never open a stream or the
 * reverse. The receiver checks the timestamp window as for a request and also refuses a nonce it
 * has seen within twice the window: a captured open cannot be replayed at all. Every frame is then
 * MAC'd (frames.ts) with a key only the two peers can derive:
 *
 *   key = HMAC-SHA256(secret, "raftkit-stream-key-v1\n" + timestamp + "\n" + from + "\n" + to + "\n" + nonce)
 */
const OPEN_DOMAIN = 'raftkit-stream-v1';
const KEY_DOMAIN = 'raftkit-stream-key-v1';
export const NONCE_PATTERN = /^[0-9a-f]{32}$/;

function keyed(secret: Buffer, domain: string, raw: AuthClaim['raw'], nonce: string): Buffer {
  return createHmac('sha256', secret).update(`${domain}\n${raw.timestamp}\n${raw.from}\n${raw.to}\n${nonce}`).digest();
}

export interface StreamOpen {
  readonly headers: Record<string, string>;
  /** The frame MAC key of this stream. */
  readonly key: Buffer;
}

/** Headers opening a stream from `from` to `to` at `now`, and the stream's frame key. */
export function openStream(secret: Buffer, from: NodeId, to: NodeId, now: number): StreamOpen {
  const raw = { timestamp: String(Math.floor(now)), from: encodeURIComponent(from), to: encodeURIComponent(to) };
  const nonce = randomBytes(16).toString('hex');
  const headers = {
    [RaftHeaders.from]: raw.from,
    [RaftHeaders.to]: raw.to,
    [RaftHeaders.timestamp]: raw.timestamp,
    [RaftHeaders.streamNonce]: nonce,
    [RaftHeaders.signature]: keyed(secret, OPEN_DOMAIN, raw, nonce).toString('hex'),
  };
  return { headers, key: keyed(secret, KEY_DOMAIN, raw, nonce) };
}

/** The frame key if the open's signature matches (constant-time), else null. */
export function verifyOpen(secret: Buffer, claim: AuthClaim, nonce: string): Buffer | null {
  const expected = keyed(secret, OPEN_DOMAIN, claim.raw, nonce);
  if (expected.length !== claim.signature.length || !timingSafeEqual(expected, claim.signature)) return null;
  return keyed(secret, KEY_DOMAIN, claim.raw, nonce);
}

/**
 * The nonces of authenticated opens, kept for `keepMs` (twice the auth window: after that their
 * timestamp is refused anyway). Only opens whose signature matched are recorded, so a forger
 * cannot grow it; a peer opens a stream every minute or so.
 */
export class NonceBook {
  /** Insertion order is time order, so expired entries are at the front. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly keepMs: number) {}

  /** Records `nonce`; false if it was already used (a replayed open). */
  remember(nonce: string, now: number): boolean {
    for (const [old, at] of this.seen) {
      if (now - at <= this.keepMs) break;
      this.seen.delete(old);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now);
    return true;
  }
}
