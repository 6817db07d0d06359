import type { LookupFunction } from 'node:net';
import { ErrorCode, RaftError } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { secretBytes } from './auth.js';

type Pem = string | Buffer;

/**
 * TLS for peer traffic. A standalone server (`HttpTransport.listen`) serves `key`/`cert`;
 * the client verifies peers against `ca`. With `mutual`, the server also demands a client
 * certificate signed by `ca` and the client presents `key`/`cert`.
 */
export interface HttpTlsOptions {
  readonly ca?: Pem | readonly Pem[];
  readonly key?: Pem;
  readonly cert?: Pem;
  readonly mutual?: boolean;
}

export interface BackoffOptions {
  /** Backoff after the first failure, before jitter. Default 50 ms. */
  readonly initialMs?: number;
  /** Cap of the doubling backoff. Default 5000 ms. */
  readonly maxMs?: number;
}

export interface HttpTransportOptions {
  /** This node's id. */
  readonly id: NodeId;
  /**
   * Base URL of each peer's router mount, e.g. `http://10.0.0.2:7000` or `https://host/cluster`.
   * An entry for `id` itself is ignored, so every node can be given the same map.
   */
  readonly peers?: Readonly<Record<NodeId, string>>;
  /** Shared cluster secret for the HMAC, at least 16 bytes. */
  readonly secret: string | Uint8Array;
  readonly tls?: HttpTlsOptions;
  /**
   * A request to a peer fails after this long without an answer (large bodies get more, 1 s
   * per 8 MiB). Inbound, a body that stops arriving for this long is refused with 408.
   * Default 5000 ms.
   */
  readonly timeoutMs?: number;
  /** Largest inbound request body; larger ones get 413. Default 64 MiB. */
  readonly maxBodyBytes?: number;
  /**
   * Largest inbound request carrying a snapshot chunk (chunks go alone, marked by a header, so
   * they get their own limit; RaftNode's chunks are 1 MiB unless configured larger). Default 1 GiB.
   */
  readonly maxSnapshotBytes?: number;
  /**
   * Request bodies over 64 KiB received at once (at most one of them a snapshot chunk); beyond it a
   * request gets 503 RAFT_HTTP_BUSY with Retry-After and the sender backs off. Bounds the memory
   * that bodies not yet authenticated can take. Default 8.
   */
  readonly maxConcurrentBodies?: number;
  /** Largest outbound request body (one message larger than this goes alone). Default 8 MiB. */
  readonly maxBatchBytes?: number;
  /** Messages queued per peer before the oldest are dropped. Default 10,000. */
  readonly maxQueuedMessages?: number;
  /** Encoded bytes queued per peer before the oldest messages are dropped. Default 64 MiB. */
  readonly maxQueuedBytes?: number;
  /** Largest accepted difference between a request's timestamp and this node's clock. Default 60 s. */
  readonly authWindowMs?: number;
  readonly backoff?: BackoffOptions;
  /** Randomness in [0, 1) for backoff jitter. Default Math.random. */
  readonly random?: () => number;
  /**
   * Resolves peer host names (the signature of `dns.lookup`); called for every new connection,
   * so a peer whose name does not resolve yet is reached once it does. Default `dns.lookup`.
   */
  readonly lookup?: LookupFunction;
  /**
   * Send to each peer over one long-lived authenticated stream (`POST /raft/v1/stream`, frames
   * MAC'd per stream) instead of one request per batch; a peer without the route, or a stream
   * that breaks, is sent requests until the stream is retried with backoff. Default false.
   */
  readonly stream?: boolean;
  /**
   * With `stream`: a stream open the peer has not answered 200 within this long is given up and
   * the messages queued meanwhile go by request at once (a proxy that buffers request bodies
   * then costs this delay every 15-30 s, not a stall). Default 1000 ms.
   */
  readonly streamOpenTimeoutMs?: number;
  /**
   * With `stream`: frames the peer has not acknowledged within this long (plus 1 s per 8 MiB)
   * break the stream and the link moves to requests; finds a peer gone without closing the
   * connection. Peers of an earlier release send no acks and are not held to it. Default 1000 ms.
   */
  readonly streamAckTimeoutMs?: number;
  /**
   * Told about problems `send` cannot throw: a message that cannot be encoded, a peer refusing
   * a request (e.g. 401 from a secret mismatch), a peer URL with no raftkit endpoint behind it
   * (RAFT_HTTP_PEER_ENDPOINT_NOT_FOUND), a handler that threw. Must not throw.
   *
   * Default: one line each to `console.warn`, rate limited (the first failure of each code per
   * peer at once, then at most one line per peer per 30 s with the count left out, and a line
   * when the peer answers again). Pass `() => {}` to silence it, or your own logger.
   */
  readonly onError?: (error: Error) => void;
}

export interface HttpListenOptions extends HttpTransportOptions {
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** Port to bind; 0 picks a free one. Default 0. */
  readonly port?: number;
}

const MiB = 1024 * 1024;

export interface ResolvedOptions {
  readonly id: NodeId;
  readonly peers: ReadonlyMap<NodeId, URL>;
  readonly secret: Buffer;
  readonly tls: HttpTlsOptions | undefined;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly maxSnapshotBytes: number;
  readonly maxConcurrentBodies: number;
  readonly maxBatchBytes: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly authWindowMs: number;
  readonly backoff: Required<BackoffOptions>;
  readonly random: () => number;
  readonly lookup: LookupFunction | undefined;
  readonly stream: boolean;
  readonly streamOpenTimeoutMs: number;
  readonly streamAckTimeoutMs: number;
  /** The user's onError; null means the default console reporter. */
  readonly onError: ((error: Error) => void) | null;
}

function invalid(message: string): never {
  throw new RaftError(ErrorCode.InvalidConfig, `invalid HttpTransport options: ${message}`);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) invalid(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Parses a peer's base URL; only http and https make sense for this transport. */
export function peerUrl(peer: NodeId, url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    invalid(`peer ${peer} has an invalid URL: ${String(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') invalid(`peer ${peer} URL must be http or https`);
  return parsed;
}

function resolvePeers(id: NodeId, peers: Readonly<Record<NodeId, string>> | undefined): Map<NodeId, URL> {
  const entries = Object.entries(peers ?? {}).filter(([peer]) => peer !== id);
  return new Map(entries.map(([peer, url]) => [peer, peerUrl(peer, url)]));
}

/** Fills defaults and validates; throws RAFT_INVALID_CONFIG on any bad value. */
export function resolveOptions(options: HttpTransportOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') invalid('options must be an object');
  if (typeof options.id !== 'string' || options.id === '') invalid('id must be a non-empty string');
  const backoff = {
    initialMs: positive('backoff.initialMs', options.backoff?.initialMs, 50),
    maxMs: positive('backoff.maxMs', options.backoff?.maxMs, 5000),
  };
  if (backoff.maxMs < backoff.initialMs) invalid('backoff.maxMs must be >= backoff.initialMs');
  return {
    id: options.id,
    peers: resolvePeers(options.id, options.peers),
    secret: secretBytes(options.secret),
    tls: options.tls,
    timeoutMs: positive('timeoutMs', options.timeoutMs, 5000),
    maxBodyBytes: positive('maxBodyBytes', options.maxBodyBytes, 64 * MiB),
    maxSnapshotBytes: positive('maxSnapshotBytes', options.maxSnapshotBytes, 1024 * MiB),
    maxConcurrentBodies: positive('maxConcurrentBodies', options.maxConcurrentBodies, 8),
    maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes, 8 * MiB),
    maxQueuedMessages: positive('maxQueuedMessages', options.maxQueuedMessages, 10_000),
    maxQueuedBytes: positive('maxQueuedBytes', options.maxQueuedBytes, 64 * MiB),
    authWindowMs: positive('authWindowMs', options.authWindowMs, 60_000),
    backoff,
    random: options.random ?? Math.random,
    lookup: options.lookup,
    stream: options.stream === undefined ? false : typeof options.stream === 'boolean' ? options.stream : invalid(`stream must be a boolean, got ${String(options.stream)}`),
    streamOpenTimeoutMs: positive('streamOpenTimeoutMs', options.streamOpenTimeoutMs, 1000),
    streamAckTimeoutMs: positive('streamAckTimeoutMs', options.streamAckTimeoutMs, 1000),
    onError: options.onError ?? null,
  };
}
