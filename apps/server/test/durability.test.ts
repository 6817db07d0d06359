// The durability claim: an acknowledged write survives kill -9 of every node. Hundreds of
// concurrent writes go to the leader; all three processes are SIGKILLed at once while many are
// still in flight; after a restart every acknowledged write is there with its value, and no
// write that was never acknowledged shows up with a value nobody wrote.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Cluster } from './helpers/cluster.js';
import { jsonHeaders, rangeAll, send, sendThroughElections } from './helpers/http.js';

const WRITES = 200;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start();
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(() => cluster?.stop());

interface Round {
  readonly values: Map<string, { round: number; i: number; token: string }>;
  readonly acked: Map<string, number>;
  readonly inFlightAtKill: number;
}

/** Starts WRITES concurrent PUTs on the leader and SIGKILLs every node once `killAfter` are acknowledged. */
async function writeAndKillAll(round: number, killAfter: number): Promise<Round> {
  const leader = await cluster.leader();
  const values = new Map<string, { round: number; i: number; token: string }>();
  const acked = new Map<string, number>();
  let settled = 0;
  let inFlightAtKill = -1;
  const outcomes = new Map<string, number>();
  const killAll = (inFlight: number) => {
    inFlightAtKill = inFlight;
    for (const n of cluster.running) n.signal('SIGKILL');
  };
  const writes = Array.from({ length: WRITES }, async (_, i) => {
    const key = `dur/r${round}/${String(i).padStart(3, '0')}`;
    const value = { round, i, token: randomBytes(8).toString('hex') };
    values.set(key, value);
    try {
      // Redirects are followed and "no leader" answers retried (nothing was proposed then);
      // any other failure ends the write unacknowledged.
      const r = await sendThroughElections(`${leader.url}/v1/kv/${key}`, { method: 'PUT', headers: jsonHeaders, body: JSON.stringify(value) });
      // Every 200 is an acknowledgement, even one read after the kill signal went out.
      if (r.status === 200) acked.set(key, r.json.revision);
      else outcomes.set(`${r.status} ${r.json?.error?.code}`, (outcomes.get(`${r.status} ${r.json?.error?.code}`) ?? 0) + 1);
    } catch {
      // connection reset or refused: not acknowledged
    } finally {
      settled++;
      if (acked.size >= killAfter && inFlightAtKill < 0) killAll(WRITES - settled);
    }
  });
  await Promise.all(writes);
  if (inFlightAtKill < 0) {
    killAll(0);
    throw new Error(`only ${acked.size} of ${WRITES} writes were acknowledged before all settled; other answers: ${JSON.stringify([...outcomes])}`);
  }
  const exits = await Promise.all(cluster.nodes.map((n) => n.exit()));
  for (const e of exits) expect(e.signal === 'SIGKILL' || e.signal === null).toBe(true);
  expect(cluster.running).toEqual([]);
  return { values, acked, inFlightAtKill };
}

async function restartAll(): Promise<void> {
  for (const n of cluster.nodes) n.start();
  await Promise.all(cluster.nodes.map((n) => cluster.waitHealthy(n)));
}

async function checkRound(r: Round, round: number): Promise<void> {
  const leader = await cluster.leader();
  const seen = await rangeAll(leader.url, `dur/r${round}/`);
  for (const [key, revision] of r.acked) {
    expect(seen.get(key), `acknowledged ${key} after kill -9 of every node`).toEqual({ value: r.values.get(key), modRevision: revision });
  }
  // Writes that were in flight may or may not have applied, but only with the value sent.
  for (const [key, entry] of seen) expect(entry.value, key).toEqual(r.values.get(key));
  console.log(`round ${round}: ${r.acked.size} acknowledged, ${r.inFlightAtKill} in flight at the kill, ${seen.size - r.acked.size} unacknowledged applied`);
  // Every node that catches up holds exactly the same entries.
  const commit = (await leader.status())!.commitIndex;
  for (const n of cluster.nodes) {
    await cluster.caughtUp(n, commit);
    expect(await rangeAll(n.url, `dur/r${round}/`, 'stale'), `stale range on ${n.id}`).toEqual(seen);
  }
}

test(`kill -9 of all three nodes while ${WRITES} concurrent writes are in flight loses no acknowledged write (two rounds)`, async () => {
  const rounds: Round[] = [];
  for (const [round, killAfter] of [[1, 60], [2, 20]] as const) {
    const r = await writeAndKillAll(round, killAfter);
    // The kill came while writes were still outstanding, and after real acknowledgements.
    expect(r.acked.size).toBeGreaterThanOrEqual(killAfter);
    expect(r.inFlightAtKill).toBeGreaterThan(0);
    rounds.push(r);
    await restartAll();
    // Earlier rounds must survive the later crashes too.
    for (let i = 0; i < rounds.length; i++) await checkRound(rounds[i]!, i + 1);
  }

  // The restarted cluster keeps working.
  const leader = await cluster.leader();
  const after = await send(`${leader.url}/v1/kv/dur/after`, { method: 'PUT', headers: jsonHeaders, body: '"alive"' });
  expect(after.status).toBe(200);
});
