/** Pieces of the OpenAPI document (openapi.ts) shared by its path groups. */
export const error = { $ref: '#/components/schemas/Error' };
export const errResp = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
export const key = { name: 'key', in: 'path', required: true, description: 'The key (UTF-8, 1 byte to 4 KiB; may contain "/")', schema: { type: 'string' } };
export const consistency = {
  name: 'consistency',
  in: 'query',
  description: 'linearizable (ReadIndex, default), lease (leader lease, needs check-quorum), or stale (local state, may be old)',
  schema: { type: 'string', enum: ['linearizable', 'lease', 'stale'], default: 'linearizable' },
};
export const idem = [
  { name: 'x-raftkit-client-id', in: 'header', description: 'Session id from POST /v1/sessions; with x-raftkit-seq makes the write exactly-once', schema: { type: 'integer', minimum: 1 } },
  { name: 'x-raftkit-seq', in: 'header', description: 'Per-session sequence number of this write (retry with the same number)', schema: { type: 'integer', minimum: 1 } },
  { name: 'x-raftkit-first-outstanding', in: 'header', description: 'Lowest sequence number whose answer the client still needs (default: x-raftkit-seq)', schema: { type: 'integer', minimum: 1 } },
];
// What a refused write did: "nothing was done" (retry), or "outcome unknown" (retry only with
// the same session tag). The README's Errors table is the full list.
export const follower = {
  '307': { description: 'This node is a follower started with --follower-mode redirect (the default, forward, proxies the request to the leader instead): repeat the request at the Location header (the leader)' },
  '502': errResp('SERVER_FORWARD_FAILED (follower-mode forward): the leader could not be reached; nothing was sent, the write did not apply; safe to retry'),
  '503': errResp(
    'Nothing was done, retry: RAFT_NOT_LEADER (no leader known, "leader": null), SERVER_FORWARD_LOOP (an already-forwarded request reached a node that is not the leader either), SERVER_OVERLOADED, SERVER_SHUTTING_DOWN, RAFT_PROPOSAL_DROPPED (another leader\'s entry took its index). ' +
      'Outcome unknown, retry only with the same session tag: RAFT_STOPPED',
  ),
  '504': errResp(
    'Outcome unknown: RAFT_TIMEOUT (not applied in time), RAFT_OUTCOME_UNKNOWN (a snapshot replaced the log at its index first) or SERVER_OUTCOME_UNKNOWN (follower-mode forward: sent to the leader, no answer). The write may or may not have applied; retry with the same session tag (x-raftkit-client-id/x-raftkit-seq) to resolve it safely',
  ),
};
/** Refusals of a request body (PUT and CAS). */
export const badBody = {
  '400': errResp('KV_INVALID_ARGUMENT (bad key or value, JSON nested over 64 levels, invalid base64 with "encoding": "base64", bad headers) or SERVER_BAD_JSON (malformed, empty or not UTF-8)'),
  '408': errResp('SERVER_REQUEST_TIMEOUT: the body did not arrive within --request-timeout-ms; nothing was done'),
  '413': errResp('SERVER_BODY_TOO_LARGE'),
  '415': errResp('SERVER_BAD_REQUEST: a JSON charset other than UTF-8'),
};
export const value = { description: 'Any JSON value but null (application/json) or bytes (application/octet-stream)' };
export const revision = { type: 'object', properties: { revision: { type: 'integer', description: 'Log index at which the write applied' } } };
export const errExample = (description: string, code: string, message: string) => ({ description, content: { 'application/json': { schema: error, example: { error: { code, message } } } } });
