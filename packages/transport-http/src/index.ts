export { HttpTransport } from './httpTransport.js';
export type { RaftMiddleware } from './server/router.js';
export type { BackoffOptions, HttpListenOptions, HttpTlsOptions, HttpTransportOptions } from './options.js';
export type { HttpTransportStats, PeerStats } from './stats.js';
export { HttpErrorCode, HttpTransportError, type ErrorResponseBody, type ResponseErrorCode } from './errors.js';
export { BATCH_CONTENT_TYPE, MESSAGES_PATH, RaftHeaders, STREAM_CONTENT_TYPE, STREAM_PATH } from './protocol.js';
export { MessageTag, RetiredTag, VariantTag, WIRE_MAGIC, WIRE_VERSION, decodeBatch, encodeBatch, encodeMessage, encodeMessages } from './codec/index.js';
