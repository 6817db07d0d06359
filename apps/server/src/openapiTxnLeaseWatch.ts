/**
 * OpenAPI paths and schemas of transactions, leases and watch (issue 14), served by
 * @raftkit/kv-http's router; merged into the document in openapi.ts.
 */
import { badBody, errExample, errResp, follower, idem } from './openapiShared.js';

const json = (schema: unknown, example: unknown) => ({ 'application/json': { schema, example } });

/** `?lease=ID` on PUT /v1/kv/{key}. */
export const leaseQuery = {
  name: 'lease',
  in: 'query',
  description: 'Attach the key to this lease: it is deleted when the lease expires or is revoked (a later PUT without ?lease detaches it)',
  schema: { type: 'integer', minimum: 1 },
};

export const leaseNotFound = errExample('KV_LEASE_NOT_FOUND: no lease has this id (it expired, was revoked, or never existed); nothing was written', 'KV_LEASE_NOT_FOUND', 'lease 17 not found');

const leaseId = { name: 'id', in: 'path', required: true, description: 'The lease id', schema: { type: 'integer', minimum: 1 }, example: 17 };

/** A value inside a JSON body: any JSON value but null, or bytes as { "base64": "..." }. */
const bodyValue = {
  description: 'Any JSON value but null; bytes as {"base64": "<padded standard base64>"}',
  anyOf: [{ not: { type: 'null' } }, { type: 'object', required: ['base64'], properties: { base64: { type: 'string' } } }],
};

// The examples make one story (the OpenAPI test runs it): grant lease 17, then a txn that
// creates a counter and a lock attached to the lease, then the lease's keys, then its revoke.
const txnExample = {
  compare: [
    { key: 'app/counter', target: 'version', op: '==', value: 0 },
    { key: 'app/lock', target: 'exists', exists: false },
  ],
  success: [
    { op: 'put', key: 'app/counter', value: 1 },
    { op: 'put', key: 'app/lock', value: 'worker-1', lease: 17 },
    { op: 'get', key: 'app/counter' },
  ],
  failure: [{ op: 'get', key: 'app/counter' }, { op: 'range', prefix: 'app/', limit: 10 }],
};
const txnResultExample = {
  revision: 42,
  succeeded: true,
  results: [{ op: 'put' }, { op: 'put' }, { op: 'get', value: 1, encoding: 'json', modRevision: 42, createRevision: 42, version: 1 }],
};

const watchEventExample = { key: 'app/counter', revision: 43, createRevision: 12, modRevision: 43, version: 5, lease: 0, value: 5, encoding: 'json', prevValue: 4, prevEncoding: 'json' };

export const txnLeaseWatchPaths = {
  '/v1/txn': {
    post: {
      summary:
        'A transaction, applied atomically at one revision (leader only; a follower forwards it): if every compare holds, the success ops run, else the failure ops. Exactly-once with the session headers, like every write',
      parameters: [...idem],
      requestBody: { required: true, content: json({ $ref: '#/components/schemas/TxnRequest' }, txnExample) },
      responses: {
        '200': { description: 'Applied (both outcomes of the compares are a 200: see "succeeded")', content: json({ $ref: '#/components/schemas/TxnResult' }, txnResultExample) },
        ...badBody,
        '400': errExample(
          'KV_INVALID_ARGUMENT naming the field (a bad compare or op, a key written twice in one branch, too many compares and ops, a bad value or base64) or SERVER_BAD_JSON; nothing was written',
          'KV_INVALID_ARGUMENT',
          "txn compare[0]: a value compare takes '==' or '!=', got \"<\"",
        ),
        '404': leaseNotFound,
        '410': errResp('KV_SESSION_EXPIRED / KV_SESSION_UNKNOWN: register a new session'),
        ...follower,
      },
    },
  },
  '/v1/leases': {
    post: {
      summary: 'Grant a lease (leader only; a follower forwards it). Its TTL runs on the leader\'s clock; a new leader extends every lease by an election timeout',
      parameters: [...idem],
      requestBody: {
        required: true,
        content: json(
          { type: 'object', required: ['ttlMs'], properties: { ttlMs: { type: 'integer', minimum: 1, description: 'Time to live in ms' }, id: { type: 'integer', minimum: 0, description: 'The id to give the lease (default, or 0: the revision of the grant)' } } },
          { ttlMs: 10000, id: 17 },
        ),
      },
      responses: {
        '200': { description: 'Granted', content: json({ type: 'object', properties: { revision: { type: 'integer' }, id: { type: 'integer' }, ttlMs: { type: 'integer' } } }, { revision: 17, id: 17, ttlMs: 10000 }) },
        '400': errExample('KV_INVALID_ARGUMENT: a bad ttlMs or id; SERVER_BAD_JSON', 'KV_INVALID_ARGUMENT', 'lease ttlMs must be an integer from 1 to 1099511627776, got 0'),
        '409': errExample('KV_LEASE_EXISTS: a lease with this id exists; nothing changed', 'KV_LEASE_EXISTS', 'lease 7 already exists'),
        ...follower,
      },
    },
    get: {
      summary: 'Every lease, with the time it has left by the leader\'s clock and its granted TTL (served by the leader; a follower forwards it)',
      responses: {
        '200': { description: 'The leases', content: json({ type: 'object', properties: { leases: { type: 'array', items: { $ref: '#/components/schemas/LeaseInfo' } } } }, { leases: [{ id: 17, ttlMs: 8423, grantedTtlMs: 10000 }] }) },
        ...follower,
      },
    },
  },
  '/v1/leases/{id}': {
    get: {
      summary: 'One lease: time left, granted TTL, and with keys=true the keys attached to it (served by the leader; a follower forwards it)',
      parameters: [leaseId, { name: 'keys', in: 'query', description: 'true: also list the attached keys, in key order', schema: { type: 'boolean', default: false } }],
      responses: {
        '200': { description: 'The lease', content: json({ $ref: '#/components/schemas/LeaseInfo' }, { id: 17, ttlMs: 8423, grantedTtlMs: 10000, keys: ['app/lock'] }) },
        '400': errResp('KV_INVALID_ARGUMENT: the id is not a positive integer'),
        '404': leaseNotFound,
        ...follower,
      },
    },
    delete: {
      summary: 'Revoke a lease and delete every key attached to it, at one revision (leader only; a follower forwards it). Revoking a lease that is not there changes nothing and answers revoked: false',
      parameters: [leaseId, ...idem],
      responses: {
        '200': { description: 'Applied; deleted counts the keys removed', content: json({ type: 'object', properties: { revision: { type: 'integer' }, revoked: { type: 'boolean' }, deleted: { type: 'integer' } } }, { revision: 45, revoked: true, deleted: 1 }) },
        '400': errResp('KV_INVALID_ARGUMENT: the id is not a positive integer'),
        ...follower,
      },
    },
  },
  '/v1/leases/{id}/keepalive': {
    post: {
      summary: 'Renew a lease: it expires ttlMs after this call (leader only, after a ReadIndex round confirms it still leads; a follower forwards it). Not written to the log, so safe to repeat',
      parameters: [leaseId],
      responses: {
        '200': { description: 'Renewed', content: json({ type: 'object', properties: { id: { type: 'integer' }, ttlMs: { type: 'integer', description: 'Time to live from now' } } }, { id: 17, ttlMs: 10000 }) },
        '400': errResp('KV_INVALID_ARGUMENT: the id is not a positive integer'),
        '404': leaseNotFound,
        ...follower,
      },
    },
  },
  '/v1/watch': {
    get: {
      summary:
        'Stream the changes of a key or of a prefix as Server-Sent Events, in revision order, each once. Any node serves it from its own applied state and history (followers too; never forwarded). With fromRevision or Last-Event-ID it replays the node\'s history at once, no leader needed (unless consistency is given); without either it first waits until the node has applied a read point confirmed by the leader (consistency=stale skips that) and starts right after it',
      parameters: [
        { name: 'key', in: 'query', description: 'Watch this key (exactly one of key and prefix)', schema: { type: 'string' }, example: 'app/counter' },
        { name: 'prefix', in: 'query', description: 'Watch every key starting with this ("" for all keys)', schema: { type: 'string' }, example: 'app/' },
        { name: 'fromRevision', in: 'query', description: 'First revision to deliver (replayed from the kept history); wins over Last-Event-ID', schema: { type: 'integer', minimum: 1 } },
        { name: 'prevValue', in: 'query', description: 'true: add each change\'s previous value (prevValue, prevEncoding) when the key existed before', schema: { type: 'boolean', default: false } },
        { name: 'consistency', in: 'query', description: 'The read point the node reaches before it opens the watch, and the start when neither fromRevision nor Last-Event-ID is given: linearizable (the default without a start; every change committed after the request arrived is delivered), lease, or stale (no leader needed: the node\'s state as it is; the default with a start)', schema: { type: 'string', enum: ['linearizable', 'lease', 'stale'] } },
        { name: 'Last-Event-ID', in: 'header', description: 'Resume after this revision (from N + 1), as a browser EventSource sends it on reconnect; ignored when fromRevision is given', schema: { type: 'integer', minimum: 0 } },
      ],
      responses: {
        '200': {
          description:
            'text/event-stream (cache-control: no-cache, never compressed, each event flushed), starting with a ": watching ..." comment. One event per change: "event: put" or "event: delete", "data:" one JSON line (WatchEvent; value and encoding on puts only, bytes as base64). "id: <revision>" is on the last event of each revision only, so a reconnect with Last-Event-ID never skips the rest of a revision. A ": ping" comment every 15 s keeps idle connections open. An error after the stream began is "event: error" with data {"error": {"code", "message", ...}}, and the stream ends: KV_WATCH_OVERFLOW (the reader fell too far behind; resume from lastRevision + 1) or KV_COMPACTED (the node restored a snapshot past the watch\'s position; oldestRevision says where history starts)',
          content: {
            'text/event-stream': {
              schema: { type: 'string' },
              example:
                `: watching {"prefix":"app/"}\n\nevent: put\ndata: ${JSON.stringify(watchEventExample)}\nid: 43\n\n` +
                `event: delete\ndata: ${JSON.stringify({ key: 'app/lock', revision: 44, createRevision: 0, modRevision: 44, version: 0, lease: 0 })}\n\n` +
                `event: delete\ndata: ${JSON.stringify({ key: 'app/lock2', revision: 44, createRevision: 0, modRevision: 44, version: 0, lease: 0 })}\nid: 44\n\n: ping\n\n`,
            },
          },
        },
        '400': errExample('KV_INVALID_ARGUMENT: neither or both of key and prefix, a bad key, fromRevision, Last-Event-ID, prevValue or consistency', 'KV_INVALID_ARGUMENT', 'watch takes exactly one of key or prefix (prefix= for every key)'),
        '405': errResp('SERVER_METHOD_NOT_ALLOWED: any method but GET (HEAD too)'),
        '410': {
          description: 'KV_COMPACTED, before the stream starts: the history this node keeps no longer reaches back to fromRevision; oldestRevision is the smallest start it accepts (read the current state, then watch from its revision + 1)',
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/Error' },
              example: { error: { code: 'KV_COMPACTED', message: 'watch fromRevision 1 is compacted: the history holds revisions from 1043 on', oldestRevision: 1043 } },
            },
          },
        },
        '503': errResp('RAFT_NOT_LEADER (a watch without a start, or with consistency, and no leader to confirm the read point, e.g. a node that just restarted; a watch is never forwarded: try another node, give fromRevision, or consistency=stale), SERVER_OVERLOADED, SERVER_SHUTTING_DOWN; retry'),
      },
    },
  },
};

export const txnLeaseWatchSchemas = {
  TxnRequest: {
    type: 'object',
    properties: {
      compare: {
        type: 'array',
        description: 'All must hold for the success branch (an empty list holds)',
        items: {
          oneOf: [
            { type: 'object', required: ['key', 'target', 'op', 'value'], properties: { key: { type: 'string' }, target: { const: 'value' }, op: { enum: ['==', '!='] }, value: bodyValue } },
            { type: 'object', required: ['key', 'target', 'exists'], properties: { key: { type: 'string' }, target: { const: 'exists' }, exists: { type: 'boolean' } } },
            {
              type: 'object',
              required: ['key', 'target', 'op', 'value'],
              properties: { key: { type: 'string' }, target: { enum: ['modRevision', 'createRevision', 'version'] }, op: { enum: ['==', '!=', '<', '>'] }, value: { type: 'integer', description: '0 for an absent key' } },
            },
          ],
        },
      },
      success: { type: 'array', items: { $ref: '#/components/schemas/TxnOp' } },
      failure: { type: 'array', items: { $ref: '#/components/schemas/TxnOp' } },
    },
  },
  TxnOp: {
    description: 'A key may be written (put or delete) at most once per branch',
    oneOf: [
      { type: 'object', required: ['op', 'key', 'value'], properties: { op: { const: 'put' }, key: { type: 'string' }, value: bodyValue, lease: { type: 'integer', minimum: 1 } } },
      { type: 'object', required: ['op', 'key'], properties: { op: { const: 'delete' }, key: { type: 'string' } } },
      { type: 'object', required: ['op', 'key'], properties: { op: { const: 'get' }, key: { type: 'string' } } },
      { type: 'object', required: ['op', 'prefix'], properties: { op: { const: 'range' }, prefix: { type: 'string' }, limit: { type: 'integer', minimum: 1 } } },
    ],
  },
  TxnResult: {
    type: 'object',
    properties: {
      revision: { type: 'integer', description: 'The revision the transaction applied at' },
      succeeded: { type: 'boolean', description: 'Whether every compare held (the success branch ran)' },
      results: {
        type: 'array',
        description: 'One per op of the branch that ran, in order: {"op": "put"}; {"op": "delete", "deleted"}; {"op": "get", "value", "encoding", "modRevision", "createRevision", "version"} (value and the revisions null, version 0, when absent); {"op": "range", "entries": [Entry...], "more"}',
        items: { type: 'object', required: ['op'], properties: { op: { enum: ['put', 'delete', 'get', 'range'] } } },
      },
    },
  },
  LeaseInfo: {
    type: 'object',
    properties: { id: { type: 'integer' }, ttlMs: { type: 'integer', description: "Time left by the leader's clock" }, grantedTtlMs: { type: 'integer' }, keys: { type: 'array', items: { type: 'string' }, description: 'With keys=true' } },
  },
  WatchEvent: {
    type: 'object',
    description: 'The data of an "event: put" or "event: delete"',
    properties: {
      key: { type: 'string' },
      revision: { type: 'integer', description: 'The revision of the change' },
      createRevision: { type: 'integer' },
      modRevision: { type: 'integer' },
      version: { type: 'integer', description: 'Writes of the key since it was created (0 on a delete, as createRevision)' },
      lease: { type: 'integer', description: 'The lease it is attached to, 0 for none' },
      value: { description: 'Puts only' },
      encoding: { enum: ['json', 'base64'] },
      prevValue: { description: 'With prevValue=true, when the key existed before' },
      prevEncoding: { enum: ['json', 'base64'] },
    },
    example: watchEventExample,
  },
};
