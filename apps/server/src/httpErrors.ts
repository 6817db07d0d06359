/** Coded HTTP errors and their status mapping: live in @raftkit/kv-http, shared with the KV routes. */
export { HttpError, ServerErrorCode, isHttpError, sendError, toHttpError } from '@raftkit/kv-http/internal';
