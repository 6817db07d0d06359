import { seededRandom } from '@raftkit/core';
import type { HistoryRecorder, OperationHandle } from '@raftkit/lincheck';
import { isKvError, KvErrorCode, type Consistency, type KvClient, type KvValue, type KvWriteRequest, type KvWriteResults } from '../../../src/index.js';
import type { VirtualClock } from '../virtualClock.js';
import { randomTxn, txnOutput } from './txnGen.js';
import type { SimInput, SimOutput } from './txnModel.js';
import { SessionWriter, TaggedWriter, type SimWriter } from './writers.js';

export type Recorder = HistoryRecorder<SimInput, SimOutput>;

/** Keys in two groups, so range reads join only part of the history. */
export const SIM_KEYS = ['a0', 'a1', 'b0', 'b1'] as const;
const PREFIXES = ['a', 'b'] as const;

export interface ClientStats {
  ok: number;
  fail: number;
  unknown: number;
  okWrites: number;
  expired: number;
}

const asValue = (v: KvValue | null | undefined): string | null => {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new Error(`simulation only writes strings, read ${JSON.stringify(v)}`);
  return v;
};

/**
 * One simulated client: a loop of random operations against the cluster, each recorded in
 * the shared history. Writes whose outcome stays unknown are recorded as unknown; reads that
 * fail, as failed (a read changes nothing). `tagged` clients write like a server would, with
 * explicit tags, retrying until the outcome is known.
 */
export class SimClient {
  readonly stats: ClientStats = { ok: 0, fail: 0, unknown: 0, okWrites: 0, expired: 0 };
  finished = false;
  private readonly rand: () => number;
  private readonly writer: SimWriter;
  private stop: () => boolean = () => false;
  private n = 0;
  /** Last value this client saw per key: cas usually expects it. */
  private readonly seen = new Map<string, string | null>();

  constructor(
    readonly name: string,
    private readonly kv: KvClient,
    private readonly rec: Recorder,
    private readonly clock: VirtualClock,
    seed: number,
    tagged: boolean,
  ) {
    this.rand = seededRandom(seed);
    const sleep = (ms: number) => this.sleep(ms);
    this.writer = tagged ? new TaggedWriter(kv, sleep, this.rand) : new SessionWriter(kv, sleep);
  }

  async run(stop: () => boolean): Promise<void> {
    this.stop = stop;
    try {
      await this.writer.open(stop);
      while (!stop()) {
        await this.step();
        await this.sleep(Math.floor(this.rand() * 30));
      }
    } finally {
      this.finished = true;
    }
  }

  private async step(): Promise<void> {
    const r = this.rand();
    const key = this.pick(SIM_KEYS);
    if (r < 0.3) return this.put(key);
    if (r < 0.55) return this.get(key);
    if (r < 0.75) return this.cas(key);
    if (r < 0.8) return this.delete(key);
    if (r < 0.87) return this.range(this.pick(PREFIXES));
    if (r < 0.93) return this.putMany();
    return this.txn(this.pick(PREFIXES));
  }

  private nextValue(): string {
    return `${this.name}-${++this.n}`;
  }

  private consistency(): Consistency {
    return this.rand() < 0.3 ? 'lease' : 'linearizable';
  }

  private async put(key: string): Promise<void> {
    const value = this.nextValue();
    await this.write([this.rec.invoke(this.name, { op: 'put', key, value })], { op: 'put', key, value }, () => [{}]);
  }

  private async delete(key: string): Promise<void> {
    await this.write([this.rec.invoke(this.name, { op: 'delete', key })], { op: 'delete', key }, () => [{}]);
  }

  private async cas(key: string): Promise<void> {
    const expected = this.rand() < 0.8 ? (this.seen.get(key) ?? null) : null;
    const value = this.nextValue();
    const h = this.rec.invoke(this.name, { op: 'cas', key, expected, value });
    await this.write<'cas'>([h], { op: 'cas', key, expected, value }, (r) => [r.ok ? { ok: true } : { ok: false, value: asValue(r.current) }]);
  }

  /** A batch is recorded as one put per key, all in the batch's interval: weaker, still sound. */
  private async putMany(): Promise<void> {
    const pairs: [string, string][] = [
      [this.pick(['a0', 'a1']), this.nextValue()],
      [this.pick(['b0', 'b1']), this.nextValue()],
    ];
    const hs = pairs.map(([key, value]) => this.rec.invoke(this.name, { op: 'put', key, value }));
    await this.write(hs, { op: 'putMany', entries: pairs }, () => pairs.map(() => ({})));
  }

  /** A transaction within one key group, recorded as one operation of the extended model. */
  private async txn(group: string): Promise<void> {
    const input = randomTxn({ rand: this.rand, nextValue: () => this.nextValue(), seen: (k) => this.seen.get(k) }, group);
    await this.write<'txn'>([this.rec.invoke(this.name, input)], input, (r) => {
      const out = txnOutput(r);
      const ops = r.succeeded ? input.success : input.failure;
      ops.forEach((op, i) => void (op.op === 'get' && this.seen.set(op.key, out.results![i]!.value ?? null)));
      return [out];
    });
  }

  private async get(key: string): Promise<void> {
    const h = this.rec.invoke(this.name, { op: 'get', key });
    try {
      const r = await this.kv.get(key, { consistency: this.consistency() });
      const value = asValue(r.value);
      this.seen.set(key, value);
      this.done(h, { value });
    } catch {
      this.failed(h);
    }
  }

  private async range(prefix: string): Promise<void> {
    const h = this.rec.invoke(this.name, { op: 'range', prefix });
    try {
      const r = await this.kv.range(prefix, { consistency: this.consistency(), limit: 100 });
      if (r.more) throw new Error('range truncated');
      const entries: Record<string, string> = {};
      for (const e of r.entries) entries[e.key] = asValue(e.value)!;
      this.done(h, { entries });
    } catch {
      this.failed(h);
    }
  }

  private async write<K extends keyof KvWriteResults>(
    hs: OperationHandle<SimOutput>[],
    request: KvWriteRequest,
    outputs: (r: KvWriteResults[K]) => SimOutput[],
  ): Promise<void> {
    let result: KvWriteResults[K];
    try {
      result = (await this.writer.write(request, this.stop)) as KvWriteResults[K];
    } catch (err) {
      // Timeouts, leader changes, crashes: the write may or may not have applied. So may a
      // refused one (expired session, acknowledged seq): an earlier attempt may have run.
      if (isKvError(err, KvErrorCode.SessionExpired)) this.stats.expired += 1;
      for (const h of hs) h.unknown();
      this.stats.unknown += 1;
      return;
    }
    outputs(result).forEach((out, i) => this.done(hs[i]!, out));
    this.stats.okWrites += 1;
  }

  private done(h: OperationHandle<SimOutput>, out: SimOutput): void {
    h.ok(out);
    this.stats.ok += 1;
  }

  private failed(h: OperationHandle<SimOutput>): void {
    h.fail();
    this.stats.fail += 1;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}
