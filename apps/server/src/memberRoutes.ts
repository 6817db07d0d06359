/**
 * The membership API: GET/POST /v1/members, POST /v1/members/{id}/promote,
 * DELETE /v1/members/{id}, POST /v1/leader/transfer. Any node lists the members; the changes
 * and the transfer are leader-only, so a follower redirects or forwards them like writes.
 *
 * Every change this server proposes carries the whole address book (see memberAddresses.ts),
 * so the log, not the --peers flags, tells every node where its peers are.
 */
import { ErrorCode, NotLeaderError, type MembershipStatus, type MemberChange, type NodeId, type RaftNode } from '@raftkit/core';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { bodyDeadline, bodyError, HttpError, jsonBody, routeWrapper, sendError, ServerErrorCode } from '@raftkit/kv-http/internal';
import { NODE_ID } from './config.js';
import { type MemberAddresses, memberIds } from './memberAddresses.js';
import type { ServerMetrics } from './metrics.js';

export interface MemberRouteDeps {
  readonly node: RaftNode<unknown>;
  readonly addresses: MemberAddresses;
  readonly metrics: ServerMetrics;
  /** Deadline of a change (adding a voter includes its catch-up) and of a transfer. */
  readonly membershipTimeoutMs: number;
  /** How long a request body may take to arrive. */
  readonly requestTimeoutMs: number;
  /** Redirects or forwards a leader-only request; false if no leader is known. */
  onNotLeader(req: Request, res: Response, err: NotLeaderError): Promise<boolean>;
}

export type MemberRole = 'voter' | 'learner';

export interface MemberView {
  readonly id: NodeId;
  readonly url: string | null;
  readonly role: MemberRole;
  /** A voter of C_old only, while the configuration is joint: it leaves when the change ends. */
  readonly outgoing: boolean;
  readonly self: boolean;
}

/** The body of GET /v1/members and of every successful change. */
export function membersBody(node: RaftNode<unknown>, addresses: MemberAddresses, m: MembershipStatus = node.membership()) {
  const c = m.config;
  const incoming = new Set(c.voters);
  const outgoing = new Set(c.votersOutgoing);
  const order = (id: NodeId): number => (incoming.has(id) ? 0 : outgoing.has(id) ? 1 : 2);
  const ids = memberIds(m).sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0));
  const members: MemberView[] = ids.map((id) => {
    const voter = incoming.has(id) || outgoing.has(id);
    return { id, url: m.addresses[id] ?? addresses.urlOf(id), role: voter ? 'voter' : 'learner', outgoing: !incoming.has(id) && outgoing.has(id), self: id === node.id };
  });
  return { leader: node.status().leader, index: m.index, committed: m.committed, joint: c.votersOutgoing.length > 0, members };
}

const invalid = (message: string): HttpError => new HttpError(400, ErrorCode.InvalidArgument, message);

function checkId(v: unknown, what: string): NodeId {
  if (typeof v !== 'string' || !NODE_ID.test(v)) throw invalid(`${what} must be a node id: 1-64 letters, digits, ".", "_", "-" (got ${JSON.stringify(v) ?? 'nothing'})`);
  return v;
}

function checkUrl(v: unknown): string {
  let u: URL | null = null;
  if (typeof v === 'string') {
    try {
      u = new URL(v);
    } catch {
      u = null;
    }
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash || u.username || u.password) {
    throw invalid(`"url" must be the new node's base URL, http(s)://host:port, without query, fragment or credentials (got ${JSON.stringify(v) ?? 'nothing'})`);
  }
  return (v as string).replace(/\/+$/, '');
}

function jsonObject(req: Request, what: string, optional = false): Record<string, unknown> {
  if (optional && (req.body === undefined || (typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body) && Object.keys(req.body).length === 0))) return {};
  const b: unknown = req.body;
  if (!req.is('application/json') || b === null || typeof b !== 'object' || Array.isArray(b)) throw invalid(`${what} takes a JSON object (Content-Type: application/json)`);
  return b as Record<string, unknown>;
}

function onlyKeys(b: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(b).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw invalid(`unknown field ${JSON.stringify(extra[0])}; the fields are ${allowed.join(', ')}`);
}

/** POST /v1/members body: `{ id, url, role? }`. */
export function parseAddMember(req: Request): { id: NodeId; url: string; role: MemberRole } {
  const b = jsonObject(req, 'POST /v1/members');
  onlyKeys(b, ['id', 'url', 'role']);
  const id = checkId(b['id'], '"id"');
  const url = checkUrl(b['url']);
  const role = b['role'] ?? 'voter';
  if (role !== 'voter' && role !== 'learner') throw invalid(`"role" must be "voter" or "learner", got ${JSON.stringify(role)}`);
  return { id, url, role };
}

function roleOf(m: MembershipStatus, id: NodeId): MemberRole | null {
  const c = m.config;
  if (c.voters.includes(id) || c.votersOutgoing.includes(id)) return 'voter';
  if (c.learners.includes(id) || c.learnersNext.includes(id)) return 'learner';
  return null;
}

export function memberRouter(deps: MemberRouteDeps): Router {
  const r = express.Router();
  const { node, addresses } = deps;
  const json = jsonBody(64 * 1024);
  const deadline = bodyDeadline(deps.requestTimeoutMs);
  const wrap = routeWrapper(deps.metrics, { onNotLeader: deps.onNotLeader });
  /** Leader-only work: refused here (and so redirected or forwarded) unless this node leads now. */
  const leaderOnly = (): void => {
    const s = node.status();
    if (s.role !== 'leader') throw new NotLeaderError(s.leader, `${node.id} is not the leader`);
  };
  const opts = () => ({ timeoutMs: deps.membershipTimeoutMs });
  const change = async (changes: MemberChange[], extra: Record<NodeId, string> = {}): Promise<MembershipStatus> =>
    node.changeMembership({ changes, addresses: { ...addresses.book(), ...extra } }, opts());
  const ok = (res: Response): void => {
    res.json(membersBody(node, addresses));
  };

  r.get('/members', wrap('members', async (_req, res) => ok(res)));

  r.post('/members', deadline, json, wrap('members-add', async (req, res) => {
    const { id, url, role } = parseAddMember(req);
    leaderOnly();
    const m = node.membership();
    const current = roleOf(m, id);
    const known = addresses.urlOf(id);
    if (current !== null && known !== null && known !== url) {
      throw invalid(`${id} is already a member, at ${known}; to move a node remove it and add it under a new id`);
    }
    const clash = memberIds(m).find((other) => other !== id && addresses.urlOf(other) === url);
    if (clash) throw invalid(`${url} is the address of member ${clash}; remove ${clash} first (DELETE /v1/members/${clash}), then add the new node under a new id`);
    if (current === 'voter' && role === 'learner') throw invalid(`${id} is a voter; a voter cannot be made a learner here (remove it instead)`);
    // Asking again for what is already so answers 200: a joining node retries after timeouts.
    if (current === role) return ok(res);
    const started = Date.now();
    if (current === null) await change([{ type: 'addLearner', node: id }], { [id]: url });
    if (role === 'voter') {
      // The runtime waits until the learner is within --max-learner-lag entries, then promotes.
      await node.addVoter(id, undefined, { timeoutMs: Math.max(1, deps.membershipTimeoutMs - (Date.now() - started)) });
    }
    ok(res);
  }));

  r.post('/members/:id/promote', wrap('members-promote', async (req, res) => {
    const id = checkId(req.params['id'], 'the member id');
    leaderOnly();
    const current = roleOf(node.membership(), id);
    if (current === null) throw notMember(id);
    if (current === 'learner') await change([{ type: 'addVoter', node: id }]);
    ok(res);
  }));

  r.delete('/members/:id', wrap('members-remove', async (req, res) => {
    const id = checkId(req.params['id'], 'the member id');
    leaderOnly();
    if (roleOf(node.membership(), id) === null) throw notMember(id);
    await change([{ type: 'removeNode', node: id }]);
    ok(res);
  }));

  r.post('/leader/transfer', deadline, json, wrap('leader-transfer', async (req, res) => {
    const b = jsonObject(req, 'POST /v1/leader/transfer', true);
    onlyKeys(b, ['to']);
    const to = b['to'] === undefined || b['to'] === null ? undefined : checkId(b['to'], '"to"');
    leaderOnly();
    // The core bounds it by an election timeout (then RAFT_TRANSFER_ABORTED).
    const leader = await node.transferLeadership(to);
    res.json({ leader });
  }));

  r.use('/members', (err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, bodyError(err)));
  r.use('/leader', (err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, bodyError(err)));
  return r;
}

function notMember(id: NodeId): HttpError {
  return new HttpError(404, ServerErrorCode.MemberNotFound, `${id} is not a member of the cluster (already removed?)`);
}

