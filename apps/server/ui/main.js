// The dashboard's loop: once a second, ask every member for GET /v1/dashboard (the node that
// served this page at a relative URL, the others at their client URLs), keep each one's last
// answer and when it stopped answering, note what changed, and redraw.
import { currentMembership, findLeader, reachable } from './cluster.js';
import { render } from './view.js';

const POLL_MS = 1000;
const TIMEOUT_MS = 1500;
const SELF_URL = new URL('../v1/dashboard', location.href).href;

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

async function ask(url) {
  const sent = Date.now();
  const res = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try {
      msg += `: ${(await res.json()).error.message}`;
    } catch {}
    throw new Error(msg);
  }
  const body = await res.json();
  const receivedAt = Date.now();
  return { body, receivedAt, offset: body.now - (sent + receivedAt) / 2 };
}

async function poll(rec) {
  try {
    if (!rec.self && !rec.url) throw new Error('no address known for it');
    const { body, receivedAt, offset } = await ask(rec.self ? SELF_URL : `${rec.url}/v1/dashboard`);
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
  document.getElementById('fatal').textContent = '';
  await Promise.all([...records.values()].map(poll));
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
