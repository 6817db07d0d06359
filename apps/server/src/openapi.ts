/** The client HTTP API, as OpenAPI 3.1, served at /v1/openapi.json. */
import { badBody, consistency, errExample, errResp, follower, idem, key, value, revision } from './openapiShared.js';
import { leaseNotFound, leaseQuery, txnLeaseWatchPaths, txnLeaseWatchSchemas } from './openapiTxnLeaseWatch.js';

/** Membership: leader-only changes are redirected (307) or forwarded by a follower, like writes. */
const memberId = { name: 'id', in: 'path', required: true, description: 'A member id: 1-64 letters, digits, ".", "_", "-"', schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } };
const membersOk = {
  description: 'The membership after the change (as GET /v1/members)',
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/Members' },
      example: {
        leader: 'n1',
        index: 42,
        committed: true,
        joint: false,
        members: [
          { id: 'n1', url: 'http://127.0.0.1:7001', role: 'voter', outgoing: false, self: true },
          { id: 'n2', url: 'http://127.0.0.1:7002', role: 'voter', outgoing: false, self: false },
          { id: 'n4', url: 'http://127.0.0.1:7004', role: 'learner', outgoing: false, self: false },
        ],
      },
    },
  },
};
const memberErrors = {
  '307': follower['307'],
  '409': errExample(
    'RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS (another change is not committed yet, or the new leader has not committed an entry of its term) or RAFT_LEARNER_BEHIND (the learner lags more than --max-learner-lag entries). Nothing changed; retry later',
    'RAFT_LEARNER_BEHIND',
    'learner n4 is 5120 entries behind (at most 1000)',
  ),
  '502': follower['502'],
  '503': errExample('Nothing changed, retry: RAFT_NOT_LEADER (no leader known), RAFT_TRANSFER_IN_PROGRESS (the leader is handing over; Retry-After: 1), SERVER_FORWARD_LOOP, SERVER_SHUTTING_DOWN', 'RAFT_NOT_LEADER', 'no leader known'),
  '504': errExample(
    'Outcome unknown: RAFT_TIMEOUT (not done within --membership-timeout-ms: the change may still commit, a learner may stay a learner) or SERVER_OUTCOME_UNKNOWN (forwarded, no answer). Read GET /v1/members and repeat the request: it is idempotent',
    'RAFT_TIMEOUT',
    'learner n4 catching up did not finish within 30000 ms',
  ),
};
const badMember = errExample(
  'RAFT_INVALID_ARGUMENT: a bad id, url or role, an unknown field, a url that belongs to another member, a voter asked to become a learner, removing the last voter; SERVER_BAD_JSON: malformed JSON',
  'RAFT_INVALID_ARGUMENT',
  '"url" must be the new node\'s base URL, http(s)://host:port, without query, fragment or credentials (got "ftp://x")',
);
const notMember = errExample('SERVER_MEMBER_NOT_FOUND: no member has this id (already removed?)', 'SERVER_MEMBER_NOT_FOUND', 'n9 is not a member of the cluster (already removed?)');

const membershipPaths = {
  '/v1/members': {
    get: { summary: 'The membership this node follows (any node): leader, the configuration entry index, whether it is committed, joint state, each member with its URL and role', responses: { '200': membersOk } },
    post: {
      summary: 'Add a member (leader only). role voter (default): added as a learner, promoted once within --max-learner-lag entries; answers once the promotion is committed. role learner: answers once it is added. Idempotent: asking for what already holds answers 200',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['id', 'url'],
              additionalProperties: false,
              properties: {
                id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'The new node\'s --id' },
                url: { type: 'string', description: "The new node's URL (its --url): where peers and clients reach it" },
                role: { enum: ['voter', 'learner'], default: 'voter' },
              },
            },
            example: { id: 'n4', url: 'http://127.0.0.1:7004', role: 'voter' },
          },
        },
      },
      responses: { '200': membersOk, '400': badMember, ...memberErrors },
    },
  },
  '/v1/members/{id}/promote': {
    post: { summary: 'Promote a learner to voter (leader only); 409 RAFT_LEARNER_BEHIND while it lags', parameters: [memberId], responses: { '200': membersOk, '400': badMember, '404': notMember, ...memberErrors } },
  },
  '/v1/members/{id}': {
    delete: { summary: 'Remove a member (leader only), the leader itself too (it steps down once the removal commits)', parameters: [memberId], responses: { '200': membersOk, '400': badMember, '404': notMember, ...memberErrors } },
  },
  '/v1/leader/transfer': {
    post: {
      summary: 'Hand leadership to a voter (leader only; default: the most up-to-date one); answers once it leads',
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { to: { type: 'string' } } }, example: { to: 'n2' } } } },
      responses: {
        '200': { description: 'The new leader', content: { 'application/json': { schema: { type: 'object', properties: { leader: { type: 'string' } } }, example: { leader: 'n2' } } } },
        '400': errExample('RAFT_INVALID_ARGUMENT: "to" is not a voter, or a bad body', 'RAFT_INVALID_ARGUMENT', 'ghost is not a voter'),
        '307': follower['307'],
        '502': follower['502'],
        '503': errExample('RAFT_TRANSFER_ABORTED (the target did not take over within an election timeout; the old leader still leads), RAFT_TRANSFER_IN_PROGRESS (another transfer is under way), RAFT_NOT_LEADER', 'RAFT_TRANSFER_ABORTED', 'leadership transfer to n2 did not complete within an election timeout; n1 still leads'),
        '504': errExample('RAFT_TIMEOUT: no outcome in time; GET /v1/members says who leads', 'RAFT_TIMEOUT', 'leadership transfer to n2 did not finish within 1000 ms'),
      },
    },
  },
  '/v1/snapshot': {
    post: {
      summary: "Take a snapshot of this node's state now and compact its log to the trailing margin (any node)",
      responses: {
        '200': {
          description: 'The snapshot now held',
          content: { 'application/json': { example: { index: 1042, term: 3, size: 81234, checksum: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' } } },
        },
        '503': errExample('RAFT_STOPPED: the node is stopping', 'RAFT_STOPPED', 'node n1 is not running'),
      },
    },
    get: {
      summary: "Download this node's latest snapshot as a backup file for `raftkit-server restore` (streamed)",
      responses: {
        '200': {
          description:
            'A backup file: the line "raftkit-snapshot 1", a JSON header line (index, term, voters, membership, size, checksum = SHA-256 of the data), then the snapshot bytes. Headers x-raftkit-snapshot-index, -term and -sha256 repeat them.',
          content: { 'application/octet-stream': {} },
        },
        '404': errExample('SERVER_NO_SNAPSHOT: none taken yet; POST /v1/snapshot takes one', 'SERVER_NO_SNAPSHOT', 'this node has no snapshot yet: POST /v1/snapshot takes one'),
      },
    },
  },
};

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
        summary: 'Write a key (with ?lease=ID attached to a lease)',
        parameters: [key, leaseQuery, ...idem],
        requestBody: { required: true, description: value.description, content: { 'application/json': { example: { name: 'Ada' } }, 'application/octet-stream': {} } },
        responses: { '200': { description: 'Applied', content: { 'application/json': { schema: revision, example: { revision: 2 } } } }, ...badBody, '404': leaseNotFound, '410': errResp('KV_SESSION_EXPIRED'), ...follower },
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
    ...txnLeaseWatchPaths,
    ...membershipPaths,
    '/v1/status': { get: { summary: 'Role, term, leader and leaderUrl (the leader\'s client URL, on the leader too; null while no leader is known), commit and applied index, per-peer match index and lag', responses: { '200': { description: 'Status' } } } },
    '/v1/dashboard': {
      get: {
        summary: "This node's view for the dashboard (/ui): members with match index, lag and replication state, term, leader and membership history, recent write/read/commit-latency samples, log and snapshot size. The page asks its own node only (GET /v1/dashboard/members/{id} for the others), so no cross-origin access is allowed",
        responses: { '200': { description: 'JSON, not cached (cache-control: no-store)' } },
      },
    },
    '/v1/dashboard/members/{id}': {
      get: {
        summary: "Member id's GET /v1/dashboard, fetched by this node over the cluster network at the member's client URL from its own address book (never a URL from the request), with a 1.5 s deadline; this node's own id is answered locally. What lets the page work behind an orchestrator, where the browser reaches only one node",
        parameters: [{ name: 'id', in: 'path', required: true, description: 'A member id', schema: { type: 'string' } }],
        responses: {
          '200': { description: "The member's dashboard JSON, unchanged" },
          '404': errResp('SERVER_MEMBER_NOT_FOUND: not a member (the error names it)'),
          '502': errResp('SERVER_MEMBER_UNREACHABLE: the member refused the connection or answered badly (the error has member and url)'),
          '504': errResp('SERVER_MEMBER_TIMEOUT: no answer within 1.5 s'),
        },
      },
    },
    '/ui/{file}': {
      get: {
        summary: 'The dashboard page and its scripts (static files; /ui/ is index.html, GET /ui redirects to /ui/)',
        parameters: [{ name: 'file', in: 'path', required: true, description: 'A file of apps/server/ui: letters, digits, ".", "_", "-"', schema: { type: 'string' } }],
        responses: {
          '200': { description: 'The file (ETag; revalidated every time)' },
          '304': { description: 'Not modified (If-None-Match)' },
          '308': { description: 'GET /ui: to /ui/' },
          '404': errResp('SERVER_NOT_FOUND: no such file'),
        },
      },
    },
    '/v1/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1, JSON' } } } },
    '/raft/v1/messages': {
      post: {
        summary: 'Peer traffic only: HMAC-signed binary batches of Raft messages between the nodes (see packages/transport-http); clients never call it',
        responses: {
          '204': { description: 'Accepted' },
          '400': errResp('RAFT_BAD_MESSAGE: the body does not decode'),
          '401': errResp('RAFT_HTTP_UNAUTHORIZED: missing or wrong HMAC, or a timestamp outside the ±60 s window'),
          '403': errResp('an unknown sender'),
          '405': errResp('not a POST'),
          '413': errResp('a batch over the size limit'),
          '415': errResp('not application/vnd.raftkit.batch'),
          '421': errResp('addressed to another node'),
        },
      },
    },
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
      Members: {
        type: 'object',
        properties: {
          leader: { type: ['string', 'null'] },
          index: { type: 'integer', description: 'Log index of the configuration entry (0: the bootstrap configuration, not yet in the log)' },
          committed: { type: 'boolean' },
          joint: { type: 'boolean', description: 'In a joint configuration (C_old,new): both majorities count' },
          members: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                url: { type: ['string', 'null'] },
                role: { enum: ['voter', 'learner'] },
                outgoing: { type: 'boolean', description: 'A voter of C_old only, while joint' },
                self: { type: 'boolean', description: 'The node that answered' },
              },
            },
          },
        },
      },
      Entry: { type: 'object', properties: { key: { type: 'string' }, value: {}, encoding: { enum: ['json', 'base64'] }, revision: { type: 'integer' }, modRevision: { type: 'integer' }, createRevision: { type: 'integer', description: 'revision of the write that created the key' }, version: { type: 'integer', description: 'writes since the key was created (1 for a new key)' } } },
      ...txnLeaseWatchSchemas,
    },
  },
} as const;
