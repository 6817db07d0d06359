/**
 * Client load whose history is checked: a few writers and readers against whichever nodes
 * are members right now, every operation recorded with real times for @raftkit/lincheck.
 * Writers alternate a put to a shared hot key (the linearizability check) and a put to a key
 * of their own (so every acknowledged write can be looked up at the end, none overwritten).
 * A write is retried only when the answer proves nothing was proposed; any other failure
 * leaves it `unknown`, so no write is ever applied twice.
 */
import { HistoryRecorder, checkHistory, formatResult, kv, kvModel, type KvInput, type KvOutput, type OperationHandle } from '@raftkit/lincheck';
import { sleep } from './poll.js';

export interface Target {
  readonly id: string;
  readonly url: string;
}

export interface LoadOptions {
  readonly writers?: number;
  readonly readers?: number;
  readonly hotKeys?: number;
  /** Deadline of one operation, retries included. */
  readonly opTimeoutMs?: number;
}

/** Refusals a server sends before anything reaches the log: safe to retry anywhere. */
const NOT_PROPOSED = new Set(['RAFT_NOT_LEADER', 'SERVER_SHUTTING_DOWN', 'SERVER_NO_LEADER', 'SERVER_OVERLOADED', 'RAFT_PROPOSAL_DROPPED', 'RAFT_TRANSFER_IN_PROGRESS', 'SERVER_FORWARD_FAILED']);

type Outcome =
  | { readonly kind: 'answered'; readonly status: number; readonly json: any }
  /** A write that may or may not have been applied. */
  | { readonly kind: 'unknown'; readonly why: string }
  | { readonly kind: 'gaveUp'; readonly why: string };

export interface LoadCounts {
  ok: number;
  unknown: number;
  failed: number;
  /** Why operations did not succeed, e.g. `503 RAFT_NOT_LEADER` or `timed out`: count. */
  readonly why: Map<string, number>;
}

export class CheckedLoad {
  private readonly recorder = new HistoryRecorder<KvInput, KvOutput>({ now: () => performance.now() });
  /** Unique key -> value of every acknowledged write to a writer's own keys. */
  readonly acked = new Map<string, string>();
  readonly counts: LoadCounts = { ok: 0, unknown: 0, failed: 0, why: new Map() };
  private readonly hotKeys: string[];
  private readonly opTimeoutMs: number;
  private loops: Promise<void>[] = [];
  private stopping = false;
  private leaderUrl: string | null = null;

  constructor(
    /** The nodes to send to (the members that run): asked before every attempt. */
    private readonly targets: () => readonly Target[],
    private readonly opts: LoadOptions = {},
  ) {
    this.hotKeys = Array.from({ length: opts.hotKeys ?? 3 }, (_, i) => `hot/k${i + 1}`);
    this.opTimeoutMs = opts.opTimeoutMs ?? 8000;
  }

  start(): void {
    const writers = Array.from({ length: this.opts.writers ?? 3 }, (_, i) => this.writer(`w${i + 1}`));
    const readers = Array.from({ length: this.opts.readers ?? 2 }, (_, i) => this.reader(`r${i + 1}`));
    this.loops = [...writers, ...readers];
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  /** Acknowledged operations so far (a cheap progress probe). */
  get okCount(): number {
    return this.counts.ok;
  }

  /**
   * After `stop()`: reads every hot key once more (so lost writes show up as violations) and
   * checks the whole history. Returns lincheck's verdict text when it is not `ok`.
   */
  async check(): Promise<{ ok: boolean; text: string; operations: number }> {
    for (const key of this.hotKeys) await this.get('final', key);
    const history = this.recorder.history();
    const result = checkHistory(kvModel, history, { maxSteps: 20_000_000 });
    return { ok: result.result === 'ok', text: result.result === 'ok' ? 'linearizable' : formatResult(result), operations: history.length };
  }

  private async writer(id: string): Promise<void> {
    for (let n = 1; !this.stopping; n++) {
      const value = `${id}-${n}`;
      if (n % 2 === 1) {
        await this.put(id, this.hotKeys[n % this.hotKeys.length]!, value, true);
      } else {
        const key = `own/${id}/${String(n).padStart(6, '0')}`;
        if (await this.put(id, key, value, false)) this.acked.set(key, value);
      }
    }
  }

  private async reader(id: string): Promise<void> {
    for (let n = 0; !this.stopping; n++) await this.get(id, this.hotKeys[n % this.hotKeys.length]!);
  }

  private async put(client: string, key: string, value: string, recorded: boolean): Promise<boolean> {
    const h = recorded ? this.recorder.invoke(client, kv.put(key, value)) : null;
    const out = await this.request('PUT', `/v1/kv/${key}`, JSON.stringify(value), true);
    if (out.kind === 'answered' && out.status === 200) {
      h?.ok({});
      this.counts.ok++;
      return true;
    }
    this.note(out);
    // A definite 4xx refusal applied nothing; anything else may have.
    if (out.kind === 'answered' && out.status < 500) {
      h?.fail();
      this.counts.failed++;
    } else {
      h?.unknown();
      this.counts.unknown++;
    }
    return false;
  }

  private async get(client: string, key: string): Promise<void> {
    const h: OperationHandle<KvOutput> = this.recorder.invoke(client, kv.get(key));
    const out = await this.request('GET', `/v1/kv/${key}?consistency=linearizable`, undefined, false);
    if (out.kind === 'answered' && (out.status === 200 || out.json?.error?.code === 'KV_NOT_FOUND')) {
      h.ok({ value: out.status === 200 ? (out.json.value as string) : null });
      this.counts.ok++;
      return;
    }
    this.note(out);
    h.fail(); // a read that got no answer changed nothing
    this.counts.failed++;
  }

  private note(out: Outcome): void {
    const why = out.kind === 'answered' ? `${out.status} ${out.json?.error?.code ?? ''}`.trim() : `${out.kind}: ${out.why}`;
    this.counts.why.set(why, (this.counts.why.get(why) ?? 0) + 1);
  }

  /** One operation: follows redirects, retries what is safe to retry until the deadline. */
  private async request(method: string, path: string, body: string | undefined, mutates: boolean): Promise<Outcome> {
    const deadline = performance.now() + this.opTimeoutMs;
    let url: string | null = null;
    let last = 'no attempt';
    while (performance.now() < deadline) {
      url ??= this.pickUrl(mutates);
      if (!url) {
        await sleep(25);
        continue;
      }
      const a = await attempt(method, url + path, body, Math.min(2000, deadline - performance.now()));
      if (a.kind === 'redirect') {
        url = new URL(a.location, url).origin;
        continue;
      }
      if (a.kind === 'answered') {
        const code = a.json?.error?.code as string | undefined;
        if (a.status < 500 || (!NOT_PROPOSED.has(code ?? '') && mutates)) {
          if (a.status < 300 && mutates) this.leaderUrl = url;
          return a;
        }
        last = `${a.status} ${code ?? ''}`;
      } else if (mutates && a.maybeApplied) {
        return { kind: 'unknown', why: a.why };
      } else {
        last = a.why;
      }
      if (url === this.leaderUrl) this.leaderUrl = null;
      url = null;
      await sleep(20);
    }
    return { kind: 'gaveUp', why: last };
  }

  /** For a write the node that last took one, else (and for reads: followers serve them too) any target. */
  private pickUrl(write: boolean): string | null {
    const all = this.targets();
    if (write && this.leaderUrl && all.some((t) => t.url === this.leaderUrl)) return this.leaderUrl;
    return all.length === 0 ? null : all[Math.floor(Math.random() * all.length)]!.url;
  }
}

type Attempt =
  | { readonly kind: 'answered'; readonly status: number; readonly json: any }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'network'; readonly maybeApplied: boolean; readonly why: string };

async function attempt(method: string, url: string, body: string | undefined, timeoutMs: number): Promise<Attempt> {
  try {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    const text = await res.text();
    const location = res.headers.get('location');
    if ((res.status === 307 || res.status === 308) && location) return { kind: 'redirect', location };
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      return { kind: 'network', maybeApplied: true, why: `HTTP ${res.status} with a body that is not JSON` };
    }
    return { kind: 'answered', status: res.status, json };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { kind: 'network', maybeApplied: true, why: 'timed out' };
    const code = e.cause?.code ?? String(err);
    // A refused connection never reached the server.
    return { kind: 'network', maybeApplied: code !== 'ECONNREFUSED', why: code };
  }
}
