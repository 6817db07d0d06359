// Proposals per second through one node with memory storage, after etcd's BenchmarkOneNode
// (raft/node_bench_test.go): a single-voter cluster, so each proposal commits as soon as it is
// "persisted". Measures the core's own cost per proposal, with no disk and no network.
//
// Cases:
// - RawNode, 1 per Ready: propose, ready, persist (append to an array), advance, one at a time.
// - RawNode, 64 per Ready: 64 proposals, then one ready/persist/advance round.
// - RaftNode, N concurrent: the runtime (promises, timers, apply) with an in-memory LogStorage
//   and a transport that sends nothing; N proposals outstanding at any time.
//
// Runs the built dist: `pnpm --filter @raftkit/core build && pnpm --filter @raftkit/core bench`.
// Each case runs a fixed number of proposals (BENCH_PROPOSALS, default 1,000,000 for RawNode and
// a fifth of that for RaftNode): the log stays in memory, so a count bounds the bench's memory
// (about 300 MB at the default) where a duration would not. Prints figures; it is not a test.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
if (!existsSync(dist)) {
  console.error(`bench runs the built core, but ${dist} is missing: run \`pnpm --filter @raftkit/core build\` first`);
  process.exit(1);
}
const { RawNode, RaftNode } = await import(dist);

const PROPOSALS = Number(process.env.BENCH_PROPOSALS ?? 1_000_000);
const COMMAND = new Uint8Array(64).fill(120);

/** A RawNode that leads a one-voter cluster, with its Readies carried out by `persist`. */
function leaderRawNode(persist) {
  const raw = new RawNode({ id: 'n1', voters: ['n1'], random: () => 0.5 });
  raw.campaign();
  // A single voter wins at once; the Readies that follow persist its term, vote and the
  // leader's first (empty or configuration) entries.
  while (raw.hasReady()) {
    const rd = raw.ready();
    persist(rd);
    raw.advance(rd);
  }
  if (raw.status().role !== 'leader') throw new Error(`the single voter did not become leader (role ${raw.status().role})`);
  return raw;
}

/** Memory "storage": keeps the entries (as etcd's MemoryStorage.Append does) and the hard state. */
function memoryLog() {
  const log = [];
  let hardState = null;
  return {
    persist(rd) {
      if (rd.hardState) hardState = rd.hardState;
      for (const e of rd.entries) log.push(e);
    },
    get length() {
      return log.length;
    },
    get hardState() {
      return hardState;
    },
  };
}

function rawNodeCase(perReady) {
  const store = memoryLog();
  const raw = leaderRawNode((rd) => store.persist(rd));
  let proposals = 0;
  let applied = 0;
  const started = performance.now();
  while (proposals < PROPOSALS) {
    for (let i = 0; i < perReady; i++) raw.propose(COMMAND);
    proposals += perReady;
    const rd = raw.ready();
    store.persist(rd);
    applied += rd.committedEntries.length;
    raw.advance(rd);
  }
  // What the last round committed is applied in the Ready after it.
  while (raw.hasReady()) {
    const rd = raw.ready();
    store.persist(rd);
    applied += rd.committedEntries.length;
    raw.advance(rd);
  }
  const seconds = (performance.now() - started) / 1000;
  if (applied !== proposals) throw new Error(`${proposals} proposed but ${applied} committed`);
  return { proposals, seconds };
}

/** LogStorage in memory: durable the moment it resolves (there is no disk to wait for). */
class BenchStorage {
  hardState = { term: 0, vote: null, commit: 0 };
  log = [];
  async state() {
    const last = this.log.length;
    return { hardState: this.hardState, snapshot: null, firstIndex: 1, lastIndex: last };
  }
  async entries(lo, hi) {
    return this.log.slice(lo - 1, hi - 1);
  }
  async term(index) {
    return index === 0 ? 0 : this.log[index - 1].term;
  }
  async save(write) {
    if (write.hardState) this.hardState = write.hardState;
    for (const e of write.entries ?? []) this.log[e.index - 1] = e;
    if (write.entries?.length) this.log.length = write.entries[write.entries.length - 1].index;
  }
  async installSnapshot() {
    throw new Error('the one-node bench takes no snapshots');
  }
  async snapshot() {
    return null;
  }
  async compact() {}
  async close() {}
}

/** One voter: it never sends, so the transport only has to exist. */
const silentTransport = { id: 'n1', async start() {}, send() {}, async close() {} };

async function raftNodeCase(concurrency) {
  const node = await RaftNode.create({
    id: 'n1',
    voters: ['n1'],
    storage: new BenchStorage(),
    transport: silentTransport,
    stateMachine: { apply: () => null, snapshot: () => new Uint8Array(0), restore: () => {} },
    tickMs: 10,
    electionTicks: 10,
    heartbeatTicks: 1,
    // No snapshots during the run: the bench storage does not keep them.
    snapshotEvery: Number.MAX_SAFE_INTEGER,
  });
  await node.start();
  // Propose until the single voter has elected itself (NotLeader until then).
  for (;;) {
    try {
      await node.propose(COMMAND);
      break;
    } catch (err) {
      if (err?.code !== 'RAFT_NOT_LEADER') throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const target = Math.ceil(PROPOSALS / 5);
  let proposals = 0;
  const started = performance.now();
  const worker = async () => {
    while (proposals < target) {
      proposals++;
      await node.propose(COMMAND);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await node.stop({ transferLeadership: false });
  return { proposals, seconds };
}

const rows = [];
const add = (name, r) => rows.push({ case: name, 'proposals/s': Math.round(r.proposals / r.seconds), proposals: r.proposals, seconds: r.seconds.toFixed(2), 'ns/proposal': Math.round((r.seconds * 1e9) / r.proposals) });

console.log(`@raftkit/core one-node bench: ${PROPOSALS} proposals per RawNode case, ${Math.ceil(PROPOSALS / 5)} per RaftNode case, ${COMMAND.length}-byte commands, memory storage, Node ${process.version}`);
add('RawNode, 1 proposal per Ready', rawNodeCase(1));
add('RawNode, 64 proposals per Ready', rawNodeCase(64));
for (const c of [1, 64, 1024]) add(`RaftNode, ${c} concurrent`, await raftNodeCase(c));

const cols = Object.keys(rows[0]);
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
const line = (cells) => `| ${cells.map((c, i) => String(c).padStart(width[i])).join(' | ')} |`;
console.log(line(cols));
console.log(`|${width.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
for (const r of rows) console.log(line(cols.map((c) => r[c])));
