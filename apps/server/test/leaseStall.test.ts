// Issue 9 finding 1, with real processes: put v_old, SIGSTOP the leader, let the others elect a
// new leader and acknowledge v_new, send a lease read to the paused old leader and SIGCONT it.
// Its lease was counted in ticks, and a stopped process counts none: it used to answer v_old.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, type ServerNode } from './helpers/cluster.js';
import { putJson, send } from './helpers/http.js';
import { sleep, waitFor } from './helpers/poll.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start({ args: ['--follower-mode', 'redirect'] }); // the stalled read may be a 307 (issue 13: forward is the default)
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') cluster?.printLogs();
});
afterAll(() => cluster?.stop());

/** A leader among `nodes` in a term above `term`, as those nodes themselves report. */
function newLeader(nodes: ServerNode[], term: number): Promise<ServerNode> {
  return waitFor(`a new leader above term ${term}`, async () => {
    for (const n of nodes) {
      const s = await n.status();
      if (s?.role === 'leader' && s.term > term) return n;
    }
    return null;
  }, { timeoutMs: 20_000 });
}

describe('lease reads and a paused leader', () => {
  test.each([1, 2, 3])('trial %i: the resumed old leader never answers a lease read with the value it had before the pause', async (trial) => {
    const old = await cluster.leader();
    const { term } = (await old.status())!;
    const key = `stall/${trial}`;
    expect((await putJson(old.url, key, 'v_old')).status).toBe(200);
    // Let the lease be fresh: a lease read on the healthy leader is served locally.
    const fresh = await send(`${old.url}/v1/kv/${key}?consistency=lease`);
    expect(fresh.status).toBe(200);
    expect(fresh.json.value).toBe('v_old');

    old.signal('SIGSTOP');
    try {
      const others = cluster.nodes.filter((n) => n !== old);
      const next = await newLeader(others, term);
      expect((await putJson(next.url, key, 'v_new')).status).toBe(200);
      // The read reaches the stopped process's socket; it handles it first thing after SIGCONT.
      const read = send(`${old.url}/v1/kv/${key}?consistency=lease`, { timeoutMs: 15_000 });
      await sleep(200);
      old.signal('SIGCONT');
      const r = await read;
      if (r.status === 200) expect(r.json.value).toBe('v_new');
      else expect([307, 503]).toContain(r.status);
      expect(r.json?.value).not.toBe('v_old');
    } finally {
      if (old.running) old.signal('SIGCONT');
    }
    // The old leader rejoins as a follower of the new term.
    await waitFor(`${old.id} to follow`, async () => (await old.status())?.role === 'follower');
  }, 60_000);
});
