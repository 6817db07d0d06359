// The dashboard's loop: once a second, ask the node that served this page for every member's
// view (its own at GET /v1/dashboard, the others' through GET /v1/dashboard/members/{id},
// which that node fetches over the cluster network: the page needs to reach this one origin
// only), keep each one's last answer and when it stopped answering, note what changed, and redraw.
import { currentMembership, findLeader, reachable } from './cluster.js';
import { render } from './view.js';

const POLL_MS = 1000;
/** A little over the serving node's 1.5 s deadline for a member, so its coded 504 gets here. */
const TIMEOUT_MS = 2500;
const SELF_URL = new URL('../v1/dashboard', location.href).href;
const memberUrl = (id) => new URL(`../v1/dashboard/members/${encodeURIComponent(id)}`, location.href).href;

/** id -> record (see cluster.js). */
const records = new Map();
/** Things this page saw happen: { at, kind, text }. */
const events = [];
let selfId = null;
let lastLeader;
/** Whether the member list was filled once (later additions are news). */
let synced = false;

function note(kind, text) {
  events.push({ at: Date.now(), kind, text });
  if (events.length > 200) events.shift();
}

/** Set when the serving node itself did not answer the last round (not one of its members). */
let servingDown = null;

async function ask(url) {
  const sent = Date.now();
  let res;
  try {
    res = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    servingDown = String(err.message ?? err);
    throw new Error(`the node serving this page does not answer (${servingDown})`);
  }
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try {
      const e = (await res.json()).error;
      msg += ` ${e.code}: ${e.message}`;
    } catch {}
    throw new Error(msg);
  }
  const body = await res.json();
  const receivedAt = Date.now();
  return { body, receivedAt, offset: body.now - (sent + receivedAt) / 2 };
}

async function poll(rec) {
  try {
    const { body, receivedAt, offset } = await ask(rec.self ? SELF_URL : memberUrl(rec.id));
    if (rec.failingSince !== null) note('ok', `${rec.id} answers again (after ${Math.round((receivedAt - rec.failingSince) / 1000)} s)`);
    Object.assign(rec, { body, receivedAt, offset, lastOk: receivedAt, failingSince: null, error: null });
  } catch (err) {
    if (rec.failingSince === null) {
      rec.failingSince = rec.lastOk ?? Date.now();
      note('bad', `${rec.id} does not answer (${err.message ?? err})`);
    }
    rec.error = String(err.message ?? err);
  }
}

function record(id, url, self) {
  let r = records.get(id);
  if (!r) {
    r = { id, url, self, member: null, body: null, receivedAt: null, offset: 0, lastOk: null, failingSince: null, error: null };
    records.set(id, r);
  }
  if (url) r.url = url;
  return r;
}

/** Follows the newest membership: adds new members, drops removed ones. */
function syncMembers() {
  const list = [...records.values()];
  const m = currentMembership(list, findLeader(list).id);
  if (!m) return;
  const ids = new Set(m.members.map((x) => x.id));
  for (const x of m.members) {
    if (!records.has(x.id) && synced) note('info', `${x.id} joined as ${x.role} (configuration #${m.index})`);
    record(x.id, x.url, x.id === selfId).member = x;
  }
  for (const id of records.keys()) {
    if (!ids.has(id)) {
      note('info', `${id} left the configuration (#${m.index})`);
      records.delete(id);
    }
  }
  synced = true;
}

async function round() {
  if (selfId === null) {
    const self = { id: '?', self: true, url: null, body: null, lastOk: null, failingSince: null, error: null };
    await poll(self);
    if (!self.body) {
      document.getElementById('fatal').textContent = `This node does not answer GET /v1/dashboard: ${self.error}`;
      return;
    }
    selfId = self.body.id;
    Object.assign(record(selfId, null, true), { ...self, id: selfId, url: self.body.members.find((m) => m.self)?.url ?? null });
    document.getElementById('served-by').textContent = selfId;
    syncMembers();
  }
  servingDown = null;
  await Promise.all([...records.values()].map(poll));
  // Every member is asked through the serving node: without it the page knows nothing new.
  document.getElementById('fatal').textContent = servingDown === null ? ''
    : `${selfId}, which serves this page, does not answer (${servingDown}); the other members are asked through it, so what is shown is their last answer. Open /ui on another node.`;
  syncMembers();
  const list = [...records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const leader = findLeader(list);
  if (lastLeader !== undefined && leader.id !== lastLeader) note(leader.id === null ? 'bad' : 'info', leader.id === null ? 'no leader known' : `${leader.id} leads (term ${leader.term})`);
  lastLeader = leader.id;
  render({ records: list, selfId, events, now: Date.now() });
  document.body.dataset.ready = 'true';
  document.body.dataset.reachable = String(list.filter(reachable).length);
}

async function loop() {
  const started = Date.now();
  try {
    await round();
  } catch (err) {
    document.getElementById('fatal').textContent = `dashboard error: ${err.message ?? err}`;
    console.error(err);
  }
  setTimeout(loop, Math.max(0, POLL_MS - (Date.now() - started)));
}

loop();
