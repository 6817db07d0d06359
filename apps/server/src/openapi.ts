/** The client HTTP API, as OpenAPI 3.1, served at /v1/openapi.json. */
const error = { $ref: '#/components/schemas/Error' };
const errResp = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const key = { name: 'key', in: 'path', required: true, description: 'The key (UTF-8, 1 byte to 4 KiB; may contain "/")', schema: { type: 'string' } };
const consistency = {
  name: 'consistency',
  in: 'query',
  description: 'linearizable (ReadIndex, default), lease (leader lease, needs check-quorum), or stale (local state, may be old)',
  schema: { type: 'string', enum: ['linearizable', 'lease', 'stale'], default: 'linearizable' },
};
const idem = [
  { name: 'x-raftkit-client-id', in: 'header', description: 'Session id from POST /v1/sessions; with x-raftkit-seq makes the write exactly-once', schema: { type: 'integer', minimum: 1 } },
  { name: 'x-raftkit-seq', in: 'header', description: 'Per-session sequence number of this write (retry with the same number)', schema: { type: 'integer', minimum: 1 } },
  { name: 'x-raftkit-first-outstanding', in: 'header', description: 'Lowest sequence number whose answer the client still needs (default: x-raftkit-seq)', schema: { type: 'integer', minimum: 1 } },
];
// What a refused write did: "nothing was done" (retry), or "outcome unknown" (retry only with
// the same session tag). The README's Errors table is the full list.
const follower = {
  '307': { description: 'This node is a follower (follower-mode redirect): repeat the request at the Location header (the leader)' },
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
const badBody = {
  '400': errResp('KV_INVALID_ARGUMENT (bad key or value, JSON nested over 64 levels, invalid base64 with "encoding": "base64", bad headers) or SERVER_BAD_JSON (malformed, empty or not UTF-8)'),
  '408': errResp('SERVER_REQUEST_TIMEOUT: the body did not arrive within --request-timeout-ms; nothing was done'),
  '413': errResp('SERVER_BODY_TOO_LARGE'),
  '415': errResp('SERVER_BAD_REQUEST: a JSON charset other than UTF-8'),
};
const value = { description: 'Any JSON value but null (application/json) or bytes (application/octet-stream)' };
const revision = { type: 'object', properties: { revision: { type: 'integer', description: 'Log index at which the write applied' } } };

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'raftkit KV server', version: '0.1.0', description: 'A replicated key-value store on Raft. Errors are JSON: {"error": {"code", "message"}}.' },
  paths: {
    '/v1/kv/{key}': {
      get: {
        summary: 'Read a key',
        parameters: [key, consistency],
        responses: {
          '200': { description: 'The value', content: { 'application/json': { schema: { $ref: '#/components/schemas/Entry' } }, 'application/octet-stream': {} } },
          '404': errResp('KV_NOT_FOUND'),
          '400': errResp('KV_INVALID_ARGUMENT'),
          ...follower,
        },
      },
      put: {
        summary: 'Write a key',
        parameters: [key, ...idem],
        requestBody: { required: true, description: value.description, content: { 'application/json': {}, 'application/octet-stream': {} } },
        responses: { '200': { description: 'Applied', content: { 'application/json': { schema: revision } } }, ...badBody, '410': errResp('KV_SESSION_EXPIRED'), ...follower },
      },
      delete: {
        summary: 'Delete a key',
        parameters: [key, ...idem],
        responses: { '200': { description: 'Applied; "deleted" says whether it existed', content: { 'application/json': { schema: { type: 'object', properties: { revision: { type: 'integer' }, deleted: { type: 'boolean' } } } } } }, ...follower },
      },
    },
    '/v1/kv/{key}/cas': {
      post: {
        summary: 'Compare and swap',
        parameters: [key, ...idem],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['expected', 'value'],
                properties: { expected: { description: 'Value the key must hold; null: the key must be absent' }, value: { description: 'New value' }, encoding: { enum: ['json', 'base64'] } },
              },
            },
          },
        },
        responses: { '200': { description: 'ok: whether the swap happened; else current holds the value found', content: { 'application/json': {} } }, ...badBody, ...follower },
      },
    },
    '/v1/kv': {
      get: {
        summary: 'Range by prefix, in key order',
        parameters: [{ name: 'prefix', in: 'query', schema: { type: 'string', default: '' } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, default: 1000 } }, consistency],
        responses: { '200': { description: 'entries, and more: true if the limit cut the list', content: { 'application/json': {} } }, ...follower },
      },
    },
    '/v1/sessions': { post: { summary: 'Register a client session for exactly-once writes', responses: { '200': { description: '{"clientId": n}' }, ...follower } } },
    '/v1/status': { get: { summary: 'Role, term, leader, commit and applied index, per-peer match index and lag', responses: { '200': { description: 'Status' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain exposition format' } } } },
    '/healthz': { get: { summary: 'Liveness: the process and its node are running', responses: { '200': { description: 'ok' }, '503': errResp('not running') } } },
    '/readyz': {
      get: {
        summary: "Readiness: a leader is known, this node replayed its own log, and its applied index is within --ready-max-lag of the leader's commit index (learnt from the leader just now)",
        responses: {
          '200': { description: 'ready: {"status": "ready", "leader"}' },
          '503': errResp('SERVER_NOT_READY, with "reason" (NODE_STOPPED, NO_LEADER, REPLAYING, LEADER_UNCONFIRMED or LAGGING), "leader", "appliedIndex", "leaderCommitIndex", "lag", "maxLag"'),
        },
      },
    },
  },
  components: {
    schemas: {
      Error: { type: 'object', properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, leader: { type: ['string', 'null'] }, leaderUrl: { type: 'string' } } } } },
      Entry: { type: 'object', properties: { key: { type: 'string' }, value: {}, encoding: { enum: ['json', 'base64'] }, revision: { type: 'integer' }, modRevision: { type: 'integer' } } },
    },
  },
} as const;
