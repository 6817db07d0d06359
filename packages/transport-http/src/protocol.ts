/**
 * Everything two nodes must agree on to talk: the route, the media type, the headers.
 *
 * Versions: the batch encoding stays wire version 1 (codec/batch.ts) and grows only by new
 * message tags, never by changing the fields of an existing tag. A message a peer of an
 * earlier release cannot represent (timeoutNow, a vote with `transferFrom`, the streamed
 * snapshot messages) uses a tag that peer does not know; it refuses the whole request with
 * 400 RAFT_BAD_MESSAGE ("unknown message type tag N"), this node reports that as
 * RAFT_HTTP_PEER_REJECTED and backs off, and every other message keeps its old bytes, so
 * mixed-version peers keep replicating. Bump WIRE_VERSION (refused as a whole by older peers)
 * only for a change that cannot be expressed as new tags.
 */

/** Path of the peer RPC endpoint, relative to where the router is mounted. */
export const MESSAGES_PATH = '/raft/v1/messages';

/**
 * Path of the streaming peer link (option `stream`), relative to the router's mount: one
 * long-lived chunked POST per peer and direction, carrying MAC'd frames (stream/frames.ts).
 */
export const STREAM_PATH = '/raft/v1/stream';

/** Media type of a stream's request body: length-prefixed, MAC'd frames of batches. */
export const STREAM_CONTENT_TYPE = 'application/vnd.raftkit.stream';

/** Media type of a request body: one binary-encoded batch of messages. */
export const BATCH_CONTENT_TYPE = 'application/vnd.raftkit.batch';

/** Request headers; ids are percent-encoded UTF-8 so any node id fits in a header. */
export const RaftHeaders = {
  from: 'x-raftkit-from',
  to: 'x-raftkit-to',
  /** Milliseconds since the Unix epoch when the request was signed, in decimal. */
  timestamp: 'x-raftkit-timestamp',
  /** Lowercase hex HMAC-SHA256, see auth.ts for what it covers. */
  signature: 'x-raftkit-signature',
  /**
   * "1" on a request that carries exactly one `snapshotChunk` message and nothing else: it may
   * be up to `maxSnapshotBytes` instead of `maxBodyBytes`. Judged before the body is read.
   */
  snapshot: 'x-raftkit-snapshot',
  /** A stream open's nonce: 32 lowercase hex digits, never reused (see stream/streamAuth.ts). */
  streamNonce: 'x-raftkit-stream-nonce',
  /**
   * "1" on a stream open: the sender wants acks on the response body; "1" on the 200: the
   * receiver will send them (see stream/acks.ts). Absent on either side: no acks.
   */
  streamAcks: 'x-raftkit-stream-acks',
} as const;
