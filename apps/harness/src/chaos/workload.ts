import { HistoryRecorder, kv, type KvInput, type KvOutput, type OperationHandle } from '@raftkit/lincheck';
import { sleep } from './cluster.js';
import { errorCode, type KvHttp, type Nodes, type RequestOutcome, type RequestSpec } from './kvHttp.js';
import { pick, seededRandom, type Random } from './random.js';
import type { OpInfo } from './types.js';

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: readonly string[];
  readonly seed: number;
  /** The run's clock, shared with the recorder. */
  readonly now: () => number;
  /** `stale` makes follower reads non-linearizable on purpose: a self-test of the harness. */
  readonly readConsistency: ReadConsistency;
}

export type ReadConsistency = 'linearizable' | 'stale';

/** One sequential client: at most one operation in flight, as lincheck's clients are. */
interface Client {
  readonly id: string;
  readonly rand: Random;
  /** Session id from POST /v1/sessions; null until one is open (or after it expired). */
  session: number | null;
  /** Invariant: the seq of the latest write sent; every new write takes the next one. */
  seq: number;
  /** Node that last answered a write: usually the leader. */
  preferred: string;
  written: number;
  /** The last value this client saw per key, so its cas has a fair chance to succeed. */
  readonly seen: Map<string, string | null>;
}

export const FINAL_CLIENT = 'final';

/** Writes from the history's point of view: put `{}`, cas `{ ok, value? }`. */
type Decode = (body: unknown) => KvOutput;

/**
 * Concurrent clients doing put, get and cas over HTTP, recording every operation with real
 * times. Writes carry session headers so retries apply once; a write whose outcome was lost
 * is `unknown`, one the cluster refused is `fail`, and so is a read that got no answer.
 */
export class Workload {
  readonly recorder: HistoryRecorder<KvInput, KvOutput>;
  readonly info = new Map<number, OpInfo>();
  private readonly clients: Client[];
  private loops: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly http: KvHttp,
    private readonly nodes: Nodes,
    private readonly options: WorkloadOptions,
  ) {
    this.recorder = new HistoryRecorder({ now: options.now });
    this.clients = Array.from({ length: options.clients }, (_, i) => {
      const rand = seededRandom(options.seed * 1009 + i + 1);
      return { id: `c${i + 1}`, rand, session: null, seq: 0, preferred: pick(rand, nodes.ids), written: 0, seen: new Map() };
    });
  }

  start(): void {
    this.loops = this.clients.map((c) => this.loop(c));
  }

  /** Lets each client finish its operation in flight (bounded by the op deadline). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  /** Reads every key once more, recorded as client `final`; true if every read answered. */
  async finalReads(timeoutMs: number): Promise<boolean> {
    let all = true;
    for (const key of this.options.keys) {
      const h = this.recorder.invoke(FINAL_CLIENT, kv.get(key));
      const out = await this.http.request(readSpec(key, 'linearizable'), this.nodes.ids[0]!, timeoutMs);
      all = this.completeRead(h, key, out, null) && all;
    }
    return all;
  }

  private async loop(c: Client): Promise<void> {
    while (!this.stopping) {
      if (c.session === null && !(await this.openSession(c))) {
        await sleep(100);
        continue;
      }
      await this.operate(c);
    }
  }

  private async openSession(c: Client): Promise<boolean> {
    const out = await this.http.request({ method: 'POST', path: '/v1/sessions', mutates: true }, c.preferred);
    const id = out.kind === 'answered' ? (out.body as { clientId?: unknown } | null)?.clientId : undefined;
    if (typeof id !== 'number') return false;
    c.session = id;
    c.seq = 0;
    return true;
  }

  private async operate(c: Client): Promise<void> {
    const key = pick(c.rand, this.options.keys);
    const r = c.rand();
    if (r < 0.4) return this.read(c, key);
    const value = `${c.id}-${++c.written}`;
    if (r < 0.75) {
      return this.write(c, kv.put(key, value), { method: 'PUT', path: kvPath(key), body: value }, () => ({}));
    }
    const expected = c.seen.get(key) ?? null;
    const spec = { method: 'POST' as const, path: `${kvPath(key)}/cas`, body: { expected, value } };
    await this.write(c, kv.cas(key, expected, value), spec, casOutput);
  }

  private async read(c: Client, key: string): Promise<void> {
    const h = this.recorder.invoke(c.id, kv.get(key));
    // Any node: linearizable reads on followers are part of what is under test.
    const out = await this.http.request(readSpec(key, this.options.readConsistency), pick(c.rand, this.nodes.ids));
    this.completeRead(h, key, out, c);
  }

  private completeRead(h: OperationHandle<KvOutput>, key: string, out: RequestOutcome, c: Client | null): boolean {
    if (out.kind === 'answered' && (out.status === 200 || errorCode(out.body) === 'KV_NOT_FOUND')) {
      const value = out.status === 200 ? asString((out.body as { value?: unknown }).value) : null;
      h.ok({ value });
      c?.seen.set(key, value);
      this.info.set(h.id, { node: out.node, attempts: out.attempts });
      return true;
    }
    h.fail();
    this.info.set(h.id, { attempts: out.attempts, note: describe(out) });
    return false;
  }

  private async write(c: Client, input: KvInput, spec: Omit<RequestSpec, 'mutates'>, decode: Decode): Promise<void> {
    const session = c.session!;
    const seq = ++c.seq;
    const headers = { 'x-raftkit-client-id': String(session), 'x-raftkit-seq': String(seq) };
    const h = this.recorder.invoke(c.id, input);
    const out = await this.http.request({ ...spec, headers, mutates: true }, c.preferred);
    if (out.kind === 'answered' && out.status === 200) {
      const output = decode(out.body);
      h.ok(output);
      c.preferred = out.node;
      if (input.op !== 'get' && input.op !== 'range' && input.op !== 'delete') c.seen.set(input.key, seenAfter(input, output));
      this.info.set(h.id, { node: out.node, attempts: out.attempts });
      return;
    }
    if (out.kind === 'answered' && out.status === 410) c.session = null; // expired: open a new one
    if (out.maybeApplied) h.unknown();
    else h.fail();
    this.info.set(h.id, { attempts: out.attempts, note: describe(out), ...(out.maybeApplied ? { gaveUpAt: this.options.now() } : {}) });
  }
}

const kvPath = (key: string): string => `/v1/kv/${encodeURIComponent(key)}`;

const readSpec = (key: string, consistency: ReadConsistency): RequestSpec => ({
  method: 'GET',
  path: `${kvPath(key)}?consistency=${consistency}`,
  mutates: false,
});

/** Values are written as JSON strings; anything else read back is shown as its JSON. */
function asString(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function casOutput(body: unknown): KvOutput {
  const b = body as { ok?: unknown; current?: { value?: unknown } | null };
  if (b.ok === true) return { ok: true };
  return { ok: false, value: b.current == null ? null : asString(b.current.value) };
}

function seenAfter(input: Extract<KvInput, { op: 'put' | 'cas' }>, output: KvOutput): string | null {
  if (input.op === 'put' || output.ok) return input.value;
  return output.value ?? null;
}

function describe(out: RequestOutcome): string {
  if (out.kind === 'gaveUp') return `gave up after ${out.attempts} requests (last: ${out.reason})`;
  const code = errorCode(out.body);
  return `HTTP ${out.status}${code ? ` ${code}` : ''} from ${out.node}`;
}
