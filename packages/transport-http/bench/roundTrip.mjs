// Peer round trip over loopback between two HttpTransports (HttpTransport.listen, free ports,
// HMAC auth, no TLS): n1 sends one message to n2, whose handler answers with one message back;
// the time from n1's send() to n1 receiving the answer is one round trip. That is two HTTP
// requests (one each way), with everything the transport does per request: encoding, signing,
// header checks, verifying, decoding, delivery.
//
// Cases: a heartbeat each way, and an append carrying one 128-byte entry answered by an
// appendResponse (what a PUT at c=1 costs in transport). Then a burst case: 64 messages sent at
// once, answered one for one (batching at work), timed until the last answer.
//
// Runs the built dist: `pnpm --filter @raftkit/transport-http build && pnpm --filter
// @raftkit/transport-http bench`. BENCH_ROUNDS sets the round trips per case (default 5,000,
// after 500 of warm-up). Prints figures; it is not a test.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
if (!existsSync(dist)) {
  console.error(`bench runs the built transport, but ${dist} is missing: run \`pnpm --filter @raftkit/transport-http build\` first`);
  process.exit(1);
}
const { HttpTransport } = await import(dist);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5000);
const WARMUP = 500;
const BURST = 64;
const secret = 'bench-secret-bench-secret';

const heartbeat = (from, to, context) => ({ type: 'heartbeat', from, to, term: 1, commit: 0, context });
const heartbeatResponse = (from, to, context) => ({ type: 'heartbeatResponse', from, to, term: 1, context });
const entry = (index) => ({ index, term: 1, type: 0, data: new Uint8Array(128).fill(97) });
const append = (from, to, index) => ({ type: 'append', from, to, term: 1, prevIndex: index - 1, prevTerm: 1, entries: [entry(index)], commit: index - 1 });
const appendResponse = (from, to, index) => ({ type: 'appendResponse', from, to, term: 1, success: true, index, conflictTerm: 0, conflictIndex: 0 });

/** Two started transports that know each other; `n2` answers every message with `reply(m)`. */
async function pair(reply) {
  // Any error (an unencodable message, a refused request) would leave a round unanswered.
  const onError = (err) => {
    console.error(`bench failed: ${err.message}`);
    process.exit(1);
  };
  const n1 = await HttpTransport.listen({ id: 'n1', secret, onError });
  const n2 = await HttpTransport.listen({ id: 'n2', secret, onError });
  n1.setPeer('n2', n2.url);
  n2.setPeer('n1', n1.url);
  let onAnswer = () => {};
  await n1.start({ onMessage: (m) => onAnswer(m) });
  await n2.start({ onMessage: (m) => n2.send([reply(m)]) });
  return {
    n1,
    answers: (fn) => (onAnswer = fn),
    close: () => Promise.all([n1.close(), n2.close()]),
  };
}

const key = (m) => (m.type === 'heartbeatResponse' || m.type === 'heartbeat' ? m.context : m.index);

/** `rounds` sequential round trips; returns each one's latency in ms. */
async function pingPong(p, request, rounds) {
  const times = [];
  for (let i = 1; i <= rounds; i++) {
    const started = performance.now();
    await new Promise((resolve) => {
      p.answers((m) => key(m) === i && resolve());
      p.n1.send([request('n1', 'n2', i)]);
    });
    times.push(performance.now() - started);
  }
  return times;
}

/** `rounds` bursts of BURST messages sent together; each burst's time until its last answer. */
async function bursts(p, rounds) {
  const times = [];
  let next = 1;
  for (let b = 0; b < rounds; b++) {
    const first = next;
    next += BURST;
    const started = performance.now();
    await new Promise((resolve) => {
      p.answers((m) => key(m) === next - 1 && resolve());
      p.n1.send(Array.from({ length: BURST }, (_, i) => append('n1', 'n2', first + i)));
    });
    times.push(performance.now() - started);
  }
  return times;
}

function summary(name, times, messagesPerRound = 1) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  const total = times.reduce((a, b) => a + b, 0);
  return {
    case: name,
    rounds: times.length,
    'p50 ms': at(0.5).toFixed(3),
    'p99 ms': at(0.99).toFixed(3),
    'max ms': sorted[sorted.length - 1].toFixed(3),
    'mean ms': (total / times.length).toFixed(3),
    'msgs/s each way': Math.round((times.length * messagesPerRound) / (total / 1000)),
  };
}

async function measure(name, reply, run, messagesPerRound) {
  const p = await pair(reply);
  try {
    await run(p, WARMUP);
    return summary(name, await run(p, ROUNDS), messagesPerRound);
  } finally {
    await p.close();
  }
}

console.log(`@raftkit/transport-http round trip: 2 transports on 127.0.0.1 (http, HMAC), ${ROUNDS} rounds per case after ${WARMUP} of warm-up, Node ${process.version}`);
const rows = [
  await measure('heartbeat -> heartbeatResponse', (m) => heartbeatResponse('n2', 'n1', m.context), (p, n) => pingPong(p, heartbeat, n), 1),
  await measure('append (1 x 128 B) -> appendResponse', (m) => appendResponse('n2', 'n1', m.entries[0].index), (p, n) => pingPong(p, append, n), 1),
  await measure(`burst of ${BURST} appends -> ${BURST} responses`, (m) => appendResponse('n2', 'n1', m.entries[0].index), (p, n) => bursts(p, Math.ceil(n / 10)), BURST),
];
const cols = Object.keys(rows[0]);
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
const line = (cells) => `| ${cells.map((c, i) => String(c).padStart(width[i])).join(' | ')} |`;
console.log(line(cols));
console.log(`|${width.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
for (const r of rows) console.log(line(cols.map((c) => r[c])));
