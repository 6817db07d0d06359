import { isRaftError, type Clock } from '@raftkit/core';
import { KvClient, type KvValue } from '@raftkit/kv';
import { HistoryRecorder, kv, type KvInput, type KvOutput, type OperationHandle } from '@raftkit/lincheck';
import type { SimCluster } from './cluster.js';

export type KvHistory = HistoryRecorder<KvInput, KvOutput>;

/** A clock for clients: virtual time, never killed (clients outlive node crashes). */
function clientClock(c: SimCluster): Clock {
  return {
    now: () => c.sched.now(),
    setTimeout: (fn, ms) => c.sched.setTimeout(fn, ms),
    clearTimeout: (h) => c.sched.clearTimeout(h),
    setInterval: () => {
      throw new Error('clients use no intervals');
    },
    clearInterval: () => {},
  };
}

const asString = (v: KvValue | null): string | null => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Concurrent KV clients issuing put/get/cas on a few hot keys through whichever node leads,
 * recording every operation (with virtual call and return times) for the linearizability check.
 */
export class Workload {
  readonly history: KvHistory;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  readonly counts = { ok: 0, failed: 0, unknown: 0 };
  readonly errors: Record<string, number> = {};
  private readonly keys: string[];
  private probes = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly clients: number,
    keys = 4,
  ) {
    this.history = new HistoryRecorder<KvInput, KvOutput>({ now: () => cluster.now() });
    this.keys = Array.from({ length: keys }, (_, i) => `k${i}`);
  }

  start(): void {
    for (let i = 0; i < this.clients; i++) this.loops.push(this.loop(`c${i + 1}`));
  }

  /** Stops issuing new operations; resolves when every client's last one has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  newClient(): KvClient {
    const c = this.cluster;
    return new KvClient(() => c.replicas(), {
      clock: clientClock(c),
      wallClock: () => c.now(),
      timeoutMs: 60_000,
      attemptTimeoutMs: 400,
      retryDelayMs: 20,
    });
  }

  private async loop(name: string): Promise<void> {
    const client = this.newClient();
    let n = 0;
    while (!this.stopped) {
      const key = this.keys[Math.floor(this.cluster.rand() * this.keys.length)]!;
      const r = this.cluster.rand();
      const value = `${name}-${++n}`;
      if (r < 0.4) await this.put(client, name, key, value);
      else if (r < 0.8) await this.get(client, name, key);
      else await this.cas(client, name, key, value);
      await pause(this.cluster, Math.floor(this.cluster.rand() * 20));
    }
  }

  async put(client: KvClient, name: string, key: string, value: string): Promise<void> {
    const h = this.history.invoke(name, kv.put(key, value));
    await this.settle(h, client.put(key, value).then(() => ({})), true);
  }

  async get(client: KvClient, name: string, key: string, consistency?: 'linearizable' | 'lease'): Promise<void> {
    const how = consistency ?? (this.cluster.rand() < 0.3 ? 'lease' : 'linearizable');
    const h = this.history.invoke(name, kv.get(key));
    await this.settle(h, client.get(key, { consistency: how }).then((g) => ({ value: asString(g.value) })), false);
  }

  /**
   * Lease reads of every key sent to node `id` alone (one probe client per read, in the
   * checked history): the paused-leader fault calls this as the node resumes.
   */
  probeLease(id: string): void {
    const c = this.cluster;
    for (const key of this.keys) {
      const client = new KvClient(() => c.replicas().filter((r) => r.node.id === id), {
        clock: clientClock(c),
        wallClock: () => c.now(),
        timeoutMs: 500,
        attemptTimeoutMs: 400,
        retryDelayMs: 20,
      });
      this.loops.push(this.get(client, `probe${++this.probes}`, key, 'lease'));
    }
  }

  async cas(client: KvClient, name: string, key: string, value: string): Promise<void> {
    const expected = this.cluster.rand() < 0.3 ? null : `${name}-${Math.max(1, Math.floor(this.cluster.rand() * 5))}`;
    const h = this.history.invoke(name, kv.cas(key, expected, value));
    const out = client.cas(key, expected, value).then((c) => (c.ok ? { ok: true } : { ok: false, value: asString(c.current ?? null) }));
    await this.settle(h, out, true);
  }

  /** Records the outcome: a write that errs may still have applied; a read that errs did nothing. */
  private async settle(h: OperationHandle<KvOutput>, p: Promise<KvOutput>, isWrite: boolean): Promise<void> {
    try {
      h.ok(await p);
      this.counts.ok++;
    } catch (err) {
      if (!isRaftError(err) && !(err as { code?: string }).code) throw err;
      const code = (err as { code: string }).code;
      this.errors[code] = (this.errors[code] ?? 0) + 1;
      if (isWrite) {
        h.unknown();
        this.counts.unknown++;
      } else {
        h.fail();
        this.counts.failed++;
      }
    }
  }
}

export function pause(c: SimCluster, ms: number): Promise<void> {
  return new Promise((r) => c.sched.setTimeout(r, ms));
}
