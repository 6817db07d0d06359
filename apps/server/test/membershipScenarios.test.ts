// Membership changes of a real cluster under client load (issue 10, Proof): grow 3→5 with two
// nodes that join with --join, shrink back to 3 with two DELETEs, one of them the leader's own,
// and a rolling restart of every node with SIGTERM (same data directory). Writers and readers
// run throughout against whichever nodes are members; at the end the history must be
// linearizable and every acknowledged write readable on every member.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { CheckedLoad, type Target } from './helpers/checkedLoad.js';
import { ServerNode, cleanEnv, fastTiming, requireBuiltServer } from './helpers/cluster.js';
import { jsonHeaders, rangeAll, send } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

/** The ports this file uses (7600-7699 belong to it): node nK listens on BASE_PORT + K. */
const BASE_PORT = 7600;
const url = (id: string): string => `http://127.0.0.1:${BASE_PORT + Number(id.slice(1))}`;

interface Member {
  readonly id: string;
  readonly url: string;
  readonly role: 'voter' | 'learner';
  readonly outgoing?: boolean;
  readonly self?: boolean;
}

interface Members {
  readonly leader: string | null;
  readonly index: number;
  readonly committed: boolean;
  readonly joint: boolean;
  readonly members: readonly Member[];
}

let root: string;
const env = cleanEnv();
/** Every node ever started here, by id. */
const nodes = new Map<string, ServerNode>();
/** The ids that are members and should be running: what the clients send to. */
const members = new Set<string>();
const load = new CheckedLoad((): Target[] => [...members].filter((id) => nodes.get(id)?.running).map((id) => ({ id, url: url(id) })));

function node(id: string): ServerNode {
  const n = nodes.get(id);
  if (!n) throw new Error(`no node ${id}`);
  return n;
}

/** A bootstrap member of the first configuration (n1-n3), started with --peers. */
function bootstrapNode(id: string, ids: readonly string[]): ServerNode {
  const peers = ids.filter((p) => p !== id).map((p) => `${p}=${url(p)}`).join(',');
  return addProcess(id, ['--peers', peers]);
}

function addProcess(id: string, args: readonly string[]): ServerNode {
  const port = BASE_PORT + Number(id.slice(1));
  const n = new ServerNode(id, port, root, ['--id', id, '--listen', `127.0.0.1:${port}`, '--data', join(root, id), ...fastTiming, ...args], env);
  nodes.set(id, n);
  return n;
}

async function membersOf(id: string): Promise<Members | null> {
  try {
    const r = await send(`${url(id)}/v1/members`, { timeoutMs: 2000 });
    return r.status === 200 ? (r.json as Members) : null;
  } catch {
    return null;
  }
}

/**
 * Waits until a running member says it leads and its committed, non-joint configuration has
 * exactly `voters` as voters and no learners; returns that view.
 */
function configuration(voters: readonly string[], timeoutMs = 20_000): Promise<Members> {
  const want = [...voters].sort().join(',');
  return waitFor(`the configuration {${want}}`, async () => {
    for (const id of members) {
      if (!node(id).running) continue;
      const m = await membersOf(id);
      if (!m || m.leader !== id || !m.committed || m.joint) continue;
      const got = m.members.filter((x) => x.role === 'voter').map((x) => x.id).sort().join(',');
      if (got === want && m.members.every((x) => x.role === 'voter')) return m;
    }
    return null;
  }, { timeoutMs });
}

async function leaderId(): Promise<string> {
  return waitFor('a leader among the members', async () => {
    for (const id of members) if (node(id).running && (await membersOf(id))?.leader === id) return id;
    return null;
  }, { timeoutMs: 20_000 });
}

/** Waits until `id` has applied everything the leader had committed when this was called. */
async function caughtUp(id: string): Promise<void> {
  const lead = await leaderId();
  const commit = (await node(lead).status())!.commitIndex;
  await waitFor(`${id} to apply index ${commit}`, async () => ((await node(id).status())?.appliedIndex ?? -1) >= commit, { timeoutMs: 20_000 });
}

/** Lets the clients get some acknowledged operations in before the next step. */
async function underLoad(ops = 20): Promise<void> {
  const from = load.okCount;
  await waitFor(`${ops} client operations to succeed`, () => load.okCount >= from + ops, { timeoutMs: 20_000 });
}

beforeAll(async () => {
  requireBuiltServer();
  root = mkdtempSync(join(tmpdir(), 'raftkit-membership-test-'));
  const ids = ['n1', 'n2', 'n3'];
  for (const id of ids) bootstrapNode(id, ids).start();
  for (const id of ids) members.add(id);
  await configuration(ids);
  load.start();
  await underLoad();
});
afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  for (const n of nodes.values()) process.stderr.write(`\n----- ${n.id} log tail -----\n${n.logTail(30)}\n`);
});
afterAll(async () => {
  await load.stop();
  await Promise.all([...nodes.values()].map((n) => n.kill('SIGKILL').catch(() => undefined)));
  if (process.env['KEEP_TEST_DATA']) process.stderr.write(`kept test data in ${root}\n`);
  else if (root) rmSync(root, { recursive: true, force: true });
});

test('grow 3→5: two empty nodes join with --join under load and become voters', async () => {
  for (const [id, via] of [['n4', 'n1'], ['n5', 'n2']] as const) {
    addProcess(id, ['--join', url(via)]).start();
    members.add(id);
    const m = await configuration([...members]);
    expect(m.members.find((x) => x.id === id)?.url).toBe(url(id));
    await caughtUp(id);
    await underLoad();
  }
  // Both newcomers serve linearizable reads of what was written before they existed.
  for (const id of ['n4', 'n5']) {
    const r = await send(`${url(id)}/v1/kv/hot/k1?consistency=linearizable`);
    expect(r.status, `${id}: ${r.text}`).toBe(200);
  }
});

test('shrink 5→3, first DELETE of the leader itself: the others elect and the removal commits', async () => {
  const leader = await leaderId();
  // The leader commits its own removal, then steps down (thesis §4.2.2): its DELETE is
  // answered. (Before c6ce16d the followers refused its appends once the removal was
  // appended, so it never committed it and this request hung; before 50f1581 the removed
  // leader then spun on an empty Ready and ignored SIGTERM.)
  const del = await send(`${url(leader)}/v1/members/${leader}`, { method: 'DELETE', timeoutMs: 8000 });
  expect(del.status, del.text).toBe(200);
  expect((del.json as Members).members.map((m) => m.id)).not.toContain(leader);
  members.delete(leader);
  await configuration([...members]);
  const next = await leaderId();
  expect(next).not.toBe(leader);
  // The removed node leads no one (and claims no leadership in the new configuration's terms).
  await waitFor(`${leader} to stop leading`, async () => {
    const m = await membersOf(leader);
    return m !== null && m.leader !== leader;
  });
  expect(await node(leader).kill('SIGTERM'), `${leader} stops cleanly once removed`).toEqual({ code: 0, signal: null });
  await underLoad();
});

test('shrink: DELETE a follower through another follower (forwarded to the leader)', async () => {
  const lead = await leaderId();
  const [via, victim] = [...members].filter((id) => id !== lead);
  const del = await send(`${url(via!)}/v1/members/${victim}`, { method: 'DELETE', follow: true });
  expect(del.status, del.text).toBe(200);
  expect((del.json as Members).members.map((m) => m.id)).not.toContain(victim);
  members.delete(victim!);
  await configuration([...members]);
  expect((await node(victim!).kill('SIGTERM')).code).toBe(0);
  await underLoad();
});

test('rolling restart: SIGTERM each member in turn, restart it on the same data directory', async () => {
  const order = [...members];
  for (const id of order) {
    const exit = await node(id).kill('SIGTERM');
    expect(exit, `${id} exits cleanly on SIGTERM`).toEqual({ code: 0, signal: null });
    node(id).start();
    await caughtUp(id);
    await configuration(order);
    await underLoad();
  }
});

test('the history is linearizable and every acknowledged write is on every member', async () => {
  await load.stop();
  const verdict = await load.check();
  console.log(`membership scenarios: ${verdict.operations} operations (${load.counts.ok} ok, ${load.counts.unknown} unknown, ${load.counts.failed} failed: ${JSON.stringify([...load.counts.why])}), ${load.acked.size} acknowledged own-key writes`);
  expect(verdict.ok, verdict.text).toBe(true);
  expect(load.acked.size).toBeGreaterThan(50);
  const lead = await leaderId();
  const commit = (await node(lead).status())!.commitIndex;
  for (const id of members) {
    await waitFor(`${id} to apply ${commit}`, async () => ((await node(id).status())?.appliedIndex ?? -1) >= commit);
    const seen = await rangeAll(url(id), 'own/', 'stale');
    const missing = [...load.acked].filter(([k, v]) => seen.get(k)?.value !== v).map(([k]) => k);
    expect(missing, `acknowledged writes missing on ${id}`).toEqual([]);
  }
  // The cluster still takes writes.
  const after = await send(`${url(lead)}/v1/kv/after`, { method: 'PUT', headers: jsonHeaders, body: '"alive"' });
  expect(after.status).toBe(200);
});
