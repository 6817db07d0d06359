/** Everything two nodes must agree on to talk: the route, the media type, the headers. */

/** Path of the peer RPC endpoint, relative to where the router is mounted. */
export const MESSAGES_PATH = '/raft/v1/messages';

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
   * "1" on a request that carries exactly one snapshot message and nothing else: it may be up
   * to `maxSnapshotBytes` instead of `maxBodyBytes`. Judged before the body is read.
   */
  snapshot: 'x-raftkit-snapshot',
} as const;
