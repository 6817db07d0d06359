// How long KvStateMachine.snapshot() takes to return, what a live snapshot costs apply, and
// how long reading and restoring the stream take. After `pnpm build`:
//   node --expose-gc bench/snapshotCapture.mjs 1000000
import { KvStateMachine, encodeCommand } from '../dist/index.js';
const n = Number(process.argv[2] ?? 1_000_000);
const m = new KvStateMachine();
let index = 0;
const enc = new TextEncoder();
const cmd = (key, v) => encodeCommand({ type: 'write', stamp: 0, session: null, write: { op: 'put', key, value: { kind: 1, data: enc.encode(JSON.stringify(v)) } } });
// Keys inserted in order (a sorted-array splice per insert would make random order O(n^2)).
let t = performance.now();
for (let i = 0; i < n; i++) m.apply({ index: ++index, term: 1, data: cmd('key/' + String(i).padStart(8, '0'), i) });
console.log(`${n} keys built in ${(performance.now() - t).toFixed(0)} ms`);
const times = [];
let s;
for (let j = 0; j < 9; j++) { t = performance.now(); s = m.snapshot(); times.push(performance.now() - t); }
times.sort((a, b) => a - b);
console.log(`snapshot() returns in: median ${times[4].toFixed(2)} ms, min ${times[0].toFixed(2)}, max ${times[8].toFixed(2)}`);
s = null; globalThis.gc?.();
const overwrites = Array.from({ length: 200_000 }, (_, i) => cmd('key/' + String((i * 7919) % n).padStart(8, '0'), -i));
const applyRate = (label) => { t = performance.now(); for (const d of overwrites) m.apply({ index: ++index, term: 1, data: d }); const ms = performance.now() - t; console.log(`${label}: 200k overwrites in ${ms.toFixed(0)} ms (${(ms * 1000 / 200_000).toFixed(2)} us each)`); };
applyRate('no snapshot live');
const live = m.snapshot();
applyRate('one snapshot live (first write per key saves the old record)');
applyRate('same snapshot live, keys already saved');
t = performance.now();
let bytes = 0, chunks = 0;
for await (const c of live) { bytes += c.length; chunks++; }
console.log(`reading the stream: ${(bytes / 1048576).toFixed(1)} MiB in ${chunks} chunks, ${(performance.now() - t).toFixed(0)} ms`);
t = performance.now();
const r = new KvStateMachine();
await r.restore(m.snapshot(), { index, term: 1, voters: ['a'] });
console.log(`snapshot + streaming restore: ${(performance.now() - t).toFixed(0)} ms, restored ${r.size} keys`);
