/**
 * @raftkit/client: a typed client for a raftkit cluster's HTTP API, on `fetch` (Node 20+ and
 * browsers). See README.md.
 */
export { RaftkitClient, type RaftkitClientOptions } from './client.js';
export { ClientErrorCode, RaftkitClientError, isRaftkitClientError, dispositionOf, type Disposition, type RaftkitClientErrorOptions } from './errors.js';
export type { RetryOptions } from './backoff.js';
export type { FetchLike } from './http.js';
export type { KvValue } from './values.js';
export type { WatchOptions } from './watch.js';
export type { SnapshotDownload } from './snapshot.js';
export type { KeepAliveLoopOptions } from './keepAlive.js';
export { SseParser, type SseMessage } from './sse.js';
export type * from './types.js';
