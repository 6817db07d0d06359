/** Client request body readers: they live in @raftkit/kv-http (shared with the KV routes). */
export { MAX_BODY_DEPTH, bodyDeadline, bodyError, fastJsonBody, inSeries, jsonBody, jsonDepthExceeds, rawBody } from '@raftkit/kv-http/internal';
