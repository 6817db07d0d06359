import type { KvInput, KvOutput } from '../../src/index.js';
import { rng, type KvOp } from './history.js';

export interface SimulationOptions {
  readonly seed: number;
  readonly clients: number;
  readonly opsPerClient: number;
  readonly keys: readonly string[];
  /** Fraction of operations that time out (`unknown`); half of those take effect. */
  readonly timeouts?: number;
}

interface Planned {
  readonly id: number;
  readonly clientId: number;
  readonly call: number;
  /** When the real register applies it; Infinity if it never does. */
  readonly at: number;
  readonly ret: number;
  readonly input: KvInput;
  readonly timedOut: boolean;
}

function pickInput(random: () => number, keys: readonly string[], id: number, last: Map<string, string>): KvInput {
  const key = keys[Math.floor(random() * keys.length)];
  const r = random();
  if (r < 0.4) return { op: 'put', key, value: `v${id}` };
  if (r < 0.8) return { op: 'get', key };
  if (r < 0.95) return { op: 'cas', key, expected: last.get(key) ?? null, value: `v${id}` };
  return { op: 'delete', key };
}

/** Each client runs its operations one after another, each taking effect inside its interval. */
function plan(o: SimulationOptions, random: () => number): Planned[] {
  const planned: Planned[] = [];
  const lastWritten = new Map<string, string>();
  for (let c = 0; c < o.clients; c++) {
    let t = random() * 5;
    for (let n = 0; n < o.opsPerClient; n++) {
      const id = planned.length;
      const input = pickInput(random, o.keys, id, lastWritten);
      if (input.op === 'put') lastWritten.set(input.key, input.value);
      const call = t + random() * 3;
      const timedOut = random() < (o.timeouts ?? 0);
      const at = timedOut && random() < 0.5 ? Infinity : call + random() * 10;
      const ret = timedOut ? Infinity : at + random() * 10;
      planned.push({ id, clientId: c, call, at, ret, input, timedOut });
      t = timedOut ? call + 20 : ret;
    }
  }
  return planned;
}

function apply(store: Map<string, string>, input: KvInput): KvOutput {
  if (input.op === 'range') throw new Error('not simulated');
  const current = store.get(input.key) ?? null;
  if (input.op === 'get') return { value: current };
  if (input.op === 'put') store.set(input.key, input.value);
  if (input.op === 'delete') store.delete(input.key);
  if (input.op !== 'cas') return {};
  if (current !== input.expected) return { ok: false, value: current };
  store.set(input.key, input.value);
  return { ok: true };
}

/** A history of clients using a real atomic (linearizable) store with random timing. */
export function simulateAtomicStore(o: SimulationOptions): KvOp[] {
  const planned = plan(o, rng(o.seed));
  const store = new Map<string, string>();
  const outputs = new Map<number, KvOutput>();
  for (const p of [...planned].filter((p) => p.at !== Infinity).sort((a, b) => a.at - b.at)) {
    outputs.set(p.id, apply(store, p.input));
  }
  return planned.map((p) =>
    p.timedOut
      ? { id: p.id, clientId: p.clientId, call: p.call, status: 'unknown', input: p.input }
      : { id: p.id, clientId: p.clientId, call: p.call, return: p.ret, status: 'ok', input: p.input, output: outputs.get(p.id)! },
  );
}

const isWrite = (op: KvOp, key: string): boolean =>
  op.status === 'ok' && op.input.op === 'put' && op.input.key === key;

/**
 * Makes a late read return a value that two completed writes ago was overwritten: a stale
 * read, which no linearizable store can produce. Returns the id of the altered read.
 */
export function injectStaleRead(history: KvOp[]): number {
  const byReturn = [...history].sort((a, b) => (a.return ?? Infinity) - (b.return ?? Infinity));
  const byCall = [...history].sort((a, b) => a.call - b.call);
  for (const read of byCall.slice(Math.floor(history.length * 0.8))) {
    if (read.status !== 'ok' || read.input.op !== 'get') continue;
    const key = read.input.key;
    const newer = byReturn.filter((op) => isWrite(op, key) && op.return! < read.call).pop();
    const older = newer && byReturn.filter((op) => isWrite(op, key) && op.return! < newer.call).pop();
    if (!older || older.input.op !== 'put') continue;
    const index = history.indexOf(read);
    history[index] = { ...read, output: { value: older.input.value } };
    return read.id!;
  }
  throw new Error('no read to make stale');
}
