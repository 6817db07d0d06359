import { kv, type HistoryRecorder, type KvInput, type KvOutput } from '@raftkit/lincheck';
import { errorCode } from './kvHttp.js';
import type { OpInfo } from './types.js';

/** Where the probe sends its requests. */
export interface ProbeNodes {
  urlOf(id: string): string;
}

/** `stale` makes the paused node answer from its own state: a self-test, it must be caught. */
export type LeaseConsistency = 'lease' | 'stale';

/** The history client of the probe: one lane in the report, one operation at a time. */
export const LEASE_CLIENT = 'lease';

/**
 * The stale-lease trap of issue 9 item 1, recorded in the client history: while the old leader
 * is paused, write a fresh value through the new leader and, once it is acknowledged, send a
 * lease read of that key to the paused node. The read is invoked after the write returned, so
 * the only linearizable answers are the fresh value or a later one; an old leader that serves
 * it from a lease it no longer holds answers the value from before, and the checker fails the
 * run on it.
 */
export class LeaseProbe {
  private count = 0;

  constructor(
    private readonly recorder: HistoryRecorder<KvInput, KvOutput>,
    private readonly info: Map<number, OpInfo>,
    private readonly nodes: ProbeNodes,
    private readonly consistency: LeaseConsistency,
  ) {}

  /**
   * One acknowledged write of `key` through `leader`, then one read of it at `paused`, which
   * answers only once it runs again. Resolves to the read's pending answer (bounded by
   * `readTimeoutMs`), or to why the trap could not be set.
   */
  async set(key: string, leader: string, paused: string, readTimeoutMs: number): Promise<{ read: Promise<string> } | { skipped: string }> {
    const value = `lease-${++this.count}`;
    const w = this.recorder.invoke(LEASE_CLIENT, kv.put(key, value));
    // One attempt, no session: a write that is never retried cannot apply twice.
    const put = await send(`${this.nodes.urlOf(leader)}/v1/kv/${encodeURIComponent(key)}`, 1500, { method: 'PUT', body: JSON.stringify(value) });
    if (put.status !== 200) {
      if (put.status === null || put.status >= 500) w.unknown();
      else w.fail();
      this.info.set(w.id, { node: leader, attempts: 1, note: `lease probe write: ${put.note}` });
      return { skipped: `the write through ${leader} was not acknowledged (${put.note})` };
    }
    w.ok({});
    this.info.set(w.id, { node: leader, attempts: 1 });
    const r = this.recorder.invoke(LEASE_CLIENT, kv.get(key));
    const url = `${this.nodes.urlOf(paused)}/v1/kv/${encodeURIComponent(key)}?consistency=${this.consistency}`;
    const read = send(url, readTimeoutMs, { method: 'GET' }).then((res) => {
      const found = res.status === 200 || (res.status === 404 && errorCode(res.body) === 'KV_NOT_FOUND');
      if (found) {
        const got = res.status === 200 ? (res.body as { value?: unknown }).value : null;
        r.ok({ value: typeof got === 'string' || got === null ? got : JSON.stringify(got) });
        this.info.set(r.id, { node: paused, attempts: 1, note: `lease read at the paused node` });
        // Plain text: it becomes the fault's label in the report.
        return `${paused} answered ${typeof got === 'string' ? got : JSON.stringify(got)} (the probe wrote ${value} before)`;
      }
      r.fail();
      this.info.set(r.id, { node: paused, attempts: 1, note: `lease read at the paused node: ${res.note}` });
      return `${paused} refused: ${res.note}`;
    });
    return { read };
  }
}

interface Answer {
  /** null: no HTTP answer at all. */
  readonly status: number | null;
  readonly body: unknown;
  readonly note: string;
}

/** One request, no retry, no redirect followed. */
async function send(url: string, timeoutMs: number, init: { method: string; body?: string }): Promise<Answer> {
  try {
    const res = await fetch(url, {
      ...init,
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = text;
    }
    const code = errorCode(body);
    return { status: res.status, body, note: `HTTP ${res.status}${code ? ` ${code}` : ''}` };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    return { status: null, body: null, note: e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? String(err)) };
  }
}
