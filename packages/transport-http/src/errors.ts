import { ErrorCode } from '@raftkit/core';

/**
 * Codes of the HTTP layer, sent in error responses and carried by HttpTransportError.
 * A malformed body is answered with core's RAFT_BAD_MESSAGE.
 */
export const HttpErrorCode = {
  /** 401: missing, malformed, expired or wrong HMAC signature. */
  Unauthorized: 'RAFT_HTTP_UNAUTHORIZED',
  /** 403: the sender is not a known peer, or a message claims another sender. */
  UnknownPeer: 'RAFT_HTTP_UNKNOWN_PEER',
  /** 404: no such route (standalone server only). */
  NotFound: 'RAFT_HTTP_NOT_FOUND',
  /** 405: the messages endpoint only takes POST. */
  MethodNotAllowed: 'RAFT_HTTP_METHOD_NOT_ALLOWED',
  /** 413: the body is larger than `maxBodyBytes`. */
  BodyTooLarge: 'RAFT_HTTP_BODY_TOO_LARGE',
  /** 415: wrong Content-Type, or a Content-Encoding. */
  UnsupportedMediaType: 'RAFT_HTTP_UNSUPPORTED_MEDIA_TYPE',
  /** 421: the request or a message is addressed to another node. */
  WrongNode: 'RAFT_HTTP_WRONG_NODE',
  /** 408: an admitted body stopped arriving for `timeoutMs`. */
  BodyTimeout: 'RAFT_HTTP_BODY_TIMEOUT',
  /** 411: a request without Content-Length (its size must be judged before it is read). */
  LengthRequired: 'RAFT_HTTP_LENGTH_REQUIRED',
  /** 503: the transport is not started, or is closed. */
  Unavailable: 'RAFT_HTTP_UNAVAILABLE',
  /**
   * 503 with Retry-After: `maxConcurrentBodies` large bodies are already being received. The
   * sender backs off as after any failure; it is load, not a fault, so it is not reported.
   */
  Busy: 'RAFT_HTTP_BUSY',
  /** 500: the server failed unexpectedly. */
  Internal: 'RAFT_HTTP_INTERNAL',
  /** Client side: a peer answered a request with an error status. */
  PeerRejected: 'RAFT_HTTP_PEER_REJECTED',
  /**
   * Client side: the peer URL answered without the transport's coded JSON body (an HTML 404
   * from the app, a proxy's page): nothing there serves raftkit, most often because the peer
   * URL lacks the path its router is mounted at. The message names the URL and the status.
   */
  PeerEndpointNotFound: 'RAFT_HTTP_PEER_ENDPOINT_NOT_FOUND',
  /**
   * Client side: a peer refused a request as too large (413), so the messages in it can never
   * reach that peer with its current limits (raise its `maxBodyBytes` / `maxSnapshotBytes`).
   */
  MessageTooLarge: 'RAFT_HTTP_MESSAGE_TOO_LARGE',
  /**
   * Client side: a peer's host name does not resolve (ENOTFOUND, EAI_AGAIN), e.g. a StatefulSet
   * pod whose DNS record appears only once the pod runs. The link keeps retrying with its
   * backoff and reaches the peer once the name resolves; reported, rate limited, meanwhile.
   */
  PeerUnresolved: 'RAFT_HTTP_PEER_UNRESOLVED',
  /**
   * Server side: a peer's requests are refused (401) because its timestamp is outside
   * `authWindowMs` of this node's clock; that peer is cut off until its clock is fixed.
   */
  ClockSkew: 'RAFT_HTTP_CLOCK_SKEW',
  /**
   * `updatePeers` was given an address that is not an http(s) URL (or a map that is not one):
   * that entry is ignored (a peer already reached keeps its address) and the rest applied.
   */
  BadPeerAddress: 'RAFT_HTTP_BAD_PEER_ADDRESS',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** Every code an error response can carry. */
export type ResponseErrorCode =
  | Exclude<HttpErrorCode, 'RAFT_HTTP_PEER_REJECTED' | 'RAFT_HTTP_PEER_ENDPOINT_NOT_FOUND' | 'RAFT_HTTP_PEER_UNRESOLVED' | 'RAFT_HTTP_MESSAGE_TOO_LARGE' | 'RAFT_HTTP_CLOCK_SKEW' | 'RAFT_HTTP_BAD_PEER_ADDRESS'>
  | typeof ErrorCode.BadMessage;

export const statusOf: Readonly<Record<ResponseErrorCode, number>> = {
  [ErrorCode.BadMessage]: 400,
  [HttpErrorCode.Unauthorized]: 401,
  [HttpErrorCode.UnknownPeer]: 403,
  [HttpErrorCode.NotFound]: 404,
  [HttpErrorCode.MethodNotAllowed]: 405,
  [HttpErrorCode.BodyTimeout]: 408,
  [HttpErrorCode.LengthRequired]: 411,
  [HttpErrorCode.BodyTooLarge]: 413,
  [HttpErrorCode.UnsupportedMediaType]: 415,
  [HttpErrorCode.WrongNode]: 421,
  [HttpErrorCode.Internal]: 500,
  [HttpErrorCode.Unavailable]: 503,
  [HttpErrorCode.Busy]: 503,
};

/** The JSON body of every error response. */
export interface ErrorResponseBody {
  readonly error: { readonly code: string; readonly message: string };
}

/**
 * An error of the HTTP layer. Not a RaftError: core's `ErrorCode` is a closed union, so an
 * adapter cannot add codes to it. Delivered to `onError`, never thrown from `send`.
 */
export class HttpTransportError extends Error {
  readonly code: HttpErrorCode;
  /** HTTP status of the peer's answer, when there was one. */
  readonly status: number | undefined;
  /** The peer the problem is with: the one that refused, or the one whose request was refused. */
  readonly peer: string | undefined;
  /** The code in the peer's error answer, e.g. RAFT_HTTP_BODY_TOO_LARGE. */
  readonly peerCode: string | undefined;
  constructor(code: HttpErrorCode, message: string, options: { status?: number; peer?: string; peerCode?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'HttpTransportError';
    this.code = code;
    this.status = options.status;
    this.peer = options.peer;
    this.peerCode = options.peerCode;
  }
}
