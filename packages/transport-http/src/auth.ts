import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, RaftError } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { RaftHeaders } from './protocol.js';

/**
 * Peer authentication with a shared cluster secret. A request carries
 *
 *   signature = hex(HMAC-SHA256(secret, "raftkit-v1\n" + timestamp + "\n" + from + "\n" + to + "\n" + body))
 *
 * where `from` and `to` are the header values (percent-encoded ids, so they hold no "\n" and
 * the input is unambiguous). Binding the receiver stops a request being redirected to another
 * node; the timestamp window bounds how long a captured request can be replayed.
 */
const DOMAIN = 'raftkit-v1';
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;
const TIMESTAMP_PATTERN = /^[0-9]{1,15}$/;
export const MIN_SECRET_BYTES = 16;
/** The headers every request must carry (the snapshot marker is optional). */
const AUTH_HEADERS = [RaftHeaders.from, RaftHeaders.to, RaftHeaders.timestamp, RaftHeaders.signature] as const;

/** The secret as bytes; refuses short secrets, which would make the HMAC guessable. */
export function secretBytes(secret: string | Uint8Array): Buffer {
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
    throw new RaftError(
      ErrorCode.InvalidConfig,
      `secret is required: the cluster's shared secret, a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes, the same on every member (got ${secret === null ? 'null' : typeof secret})`,
    );
  }
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new RaftError(ErrorCode.InvalidConfig, `secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

export function sign(secret: Buffer, timestamp: string, from: string, to: string, body: Uint8Array): Buffer {
  const mac = createHmac('sha256', secret);
  mac.update(`${DOMAIN}\n${timestamp}\n${from}\n${to}\n`);
  mac.update(body);
  return mac.digest();
}

/** Headers that authenticate `body` as sent by `from` to `to` at time `now`. */
export function authHeaders(secret: Buffer, from: NodeId, to: NodeId, body: Uint8Array, now: number): Record<string, string> {
  const timestamp = String(Math.floor(now));
  const fromValue = encodeURIComponent(from);
  const toValue = encodeURIComponent(to);
  return {
    [RaftHeaders.from]: fromValue,
    [RaftHeaders.to]: toValue,
    [RaftHeaders.timestamp]: timestamp,
    [RaftHeaders.signature]: sign(secret, timestamp, fromValue, toValue, body).toString('hex'),
  };
}

/** What a request claims before its signature is checked. */
export interface AuthClaim {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Header values exactly as signed. */
  readonly raw: { readonly from: string; readonly to: string; readonly timestamp: string };
  readonly signature: Buffer;
}

export type ClaimResult =
  | { readonly ok: true; readonly claim: AuthClaim }
  | {
      readonly ok: false;
      readonly reason: string;
      /** Set when the only fault is the timestamp: the sender's clock is off by this much (ms). */
      readonly skewMs?: number;
      /** The sender it claims to be, when the headers got that far. */
      readonly from?: NodeId;
    };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

function decodeId(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/**
 * Checks the auth headers are present, well-formed and recent; done before reading the body so
 * stale or unsigned requests cost the server nothing.
 */
export function readClaim(headers: IncomingHttpHeaders, now: number, windowMs: number): ClaimResult {
  const raw = { from: header(headers, RaftHeaders.from), to: header(headers, RaftHeaders.to), timestamp: header(headers, RaftHeaders.timestamp) };
  const signature = header(headers, RaftHeaders.signature);
  const missing = Object.values(AUTH_HEADERS).find((name) => header(headers, name) === undefined);
  if (missing) return { ok: false, reason: `missing ${missing} header` };
  if (!SIGNATURE_PATTERN.test(signature!)) return { ok: false, reason: `${RaftHeaders.signature} must be 64 lowercase hex digits` };
  if (!TIMESTAMP_PATTERN.test(raw.timestamp!)) return { ok: false, reason: `${RaftHeaders.timestamp} must be milliseconds since the epoch` };
  const from = decodeId(raw.from!);
  const to = decodeId(raw.to!);
  if (!from || !to) return { ok: false, reason: 'node id headers must be percent-encoded UTF-8' };
  const skewMs = Number(raw.timestamp) - now;
  if (Math.abs(skewMs) > windowMs) {
    const reason = `timestamp is ${Math.round(skewMs / 1000)} s from this node's clock, outside ±${windowMs / 1000} s (are the clocks of ${from} and ${to} synchronised?)`;
    return { ok: false, reason, skewMs, from };
  }
  const claim = { from, to, raw: raw as AuthClaim['raw'], signature: Buffer.from(signature!, 'hex') };
  return { ok: true, claim };
}

/** Checks a body's signature as it streams in, so no copy of the body is needed to verify it. */
export interface StreamingVerifier {
  update(chunk: Uint8Array): void;
  /** Constant-time comparison with the claimed signature; call once, after the last chunk. */
  matches(): boolean;
}

export function startVerify(secret: Buffer, claim: AuthClaim): StreamingVerifier {
  const mac = createHmac('sha256', secret);
  mac.update(`${DOMAIN}\n${claim.raw.timestamp}\n${claim.raw.from}\n${claim.raw.to}\n`);
  return {
    update: (chunk) => void mac.update(chunk),
    matches: () => {
      const expected = mac.digest();
      return expected.length === claim.signature.length && timingSafeEqual(expected, claim.signature);
    },
  };
}

/** Constant-time comparison of the claimed signature with the one the body deserves. */
export function verifyClaim(secret: Buffer, claim: AuthClaim, body: Uint8Array): boolean {
  const verifier = startVerify(secret, claim);
  verifier.update(body);
  return verifier.matches();
}
