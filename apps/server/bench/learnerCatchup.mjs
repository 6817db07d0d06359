// How long a new learner takes to catch up (issue 10): write ENTRIES (default 100,000) into a
// 3-node durable cluster with concurrent PUTs, stop writing, start an empty node with
// `--join <leader> --learner`, and time until its log reaches the leader's commit index (its
// match index equals the commit), polling its /v1/status. Two cases: the default log
// compaction (--snapshot-every 10000: the learner gets a snapshot, then the tail) and none
// within the run (--snapshot-every 1000000: every entry is replicated to it).
// `pnpm build && node bench/learnerCatchup.mjs`; ENTRIES, CONCURRENCY, CASES=snapshot,log.
import { printTable } from './table.mjs';
import { fill, getJson, startNodes, waitFor } from './nodes.mjs';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const CASES = (process.env.CASES ?? 'snapshot,log').split(',');
const SNAPSHOT_EVERY = { snapshot: 10_000, log: 1_000_000 };
const VALUE = JSON.stringify({ payload: 'x'.repeat(100) });

async function runCase(name) {
  const cluster = await startNodes({ prefix: `raftkit-learner-${name}-`, args: ['--snapshot-every', String(SNAPSHOT_EVERY[name])] });
  try {
    const { node: leader } = await cluster.leader();
    const w0 = performance.now();
    const failed = await fill(leader.url, 'fill', ENTRIES, VALUE, CONCURRENCY);
    const writeMs = performance.now() - w0;
    // The leader now (leadership may have moved during the writes; a follower's commit lags).
    const { status: before, node: current } = await cluster.leader();
    const target = before.commitIndex;
    const t0 = performance.now();
    const learner = await cluster.add('n4', ['--join', current.url, '--learner']);
    const member = await waitFor('n4 to be a learner', async () => {
      const m = await getJson(`${current.url}/v1/members`);
      return m?.members?.some((x) => x.id === 'n4' && x.role === 'learner') ? performance.now() : null;
    }, { timeoutMs: 60_000, intervalMs: 20 });
    const caught = await waitFor('n4 to catch up', async () => {
      const s = await learner.status();
      return s && s.lastIndex >= target && s.commitIndex >= target ? { at: performance.now(), s } : null;
    }, { timeoutMs: 300_000, intervalMs: 20 });
    const applied = await waitFor('n4 to apply', async () => ((await learner.status())?.appliedIndex ?? -1) >= target && performance.now(), { timeoutMs: 300_000, intervalMs: 20 });
    return {
      case: `${name} (--snapshot-every ${SNAPSHOT_EVERY[name]})`,
      entries: ENTRIES,
      'failed writes': failed,
      'write s': (writeMs / 1000).toFixed(1),
      'leader commit': target,
      'leader snapshot': before.snapshotIndex,
      'learner added ms': (member - t0).toFixed(0),
      'caught up ms': (caught.at - t0).toFixed(0),
      'applied ms': (applied - t0).toFixed(0),
      'learner snapshot': caught.s.snapshotIndex,
    };
  } finally {
    await cluster.stop();
  }
}

const rows = [];
try {
  for (const name of CASES) {
    if (!(name in SNAPSHOT_EVERY)) throw new Error(`unknown case ${name}: use snapshot or log`);
    rows.push(await runCase(name));
  }
  console.log(`raftkit-server learner catch-up: 3 durable nodes on 127.0.0.1, ${ENTRIES} entries written with ${CONCURRENCY} concurrent PUTs, then an empty node joins with --join --learner; times from its start`);
  printTable(rows);
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
