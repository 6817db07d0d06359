/** A small HTTP client for the tests: whole bodies, parsed JSON, redirects followed on request. */

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body when it is JSON, else undefined. */
  readonly json: any;
  /** The URL that finally answered (after redirects). */
  readonly url: string;
  /** How many 307/308 redirects were followed. */
  readonly hops: number;
}

export interface SendInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** Follow 307/308 redirects (re-sending method and body). Default false. */
  readonly follow?: boolean;
  readonly timeoutMs?: number;
}

/** One request (or a chain of redirects); rejects only on network errors and timeouts. */
export async function send(url: string, init: SendInit = {}): Promise<Reply> {
  let target = url;
  for (let hops = 0; ; hops++) {
    const res = await fetch(target, {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    const location = res.headers.get('location');
    if (init.follow && (res.status === 307 || res.status === 308) && location && hops < 5) {
      target = new URL(location, target).href;
      continue;
    }
    let json: unknown;
    if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, json, url: target, hops };
  }
}

export const jsonHeaders = { 'content-type': 'application/json' };

/** A refusal proving nothing was proposed: no leader known (an election is under way). */
export function noLeader(r: Reply): boolean {
  return r.status === 503 && r.json?.error?.code === 'RAFT_NOT_LEADER';
}

/**
 * Sends (following redirects) and, while the answer is "no leader known", tries again for up
 * to `timeoutMs`. Safe for writes too: such a request was refused before it reached the log.
 */
export async function sendThroughElections(url: string, init: SendInit, timeoutMs = 10_000): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await send(url, { ...init, follow: true });
    if (!noLeader(r) || Date.now() >= deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** PUT a JSON value, following redirects to the leader (and waiting out elections). */
export function putJson(base: string, key: string, value: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return sendThroughElections(`${base}/v1/kv/${key}`, { method: 'PUT', headers: { ...jsonHeaders, ...headers }, body: JSON.stringify(value) });
}

export function getKey(base: string, key: string, consistency?: 'linearizable' | 'lease' | 'stale'): Promise<Reply> {
  return sendThroughElections(`${base}/v1/kv/${key}${consistency ? `?consistency=${consistency}` : ''}`, {});
}

/** Every entry under `prefix` as key -> { value, modRevision }, at the given consistency. */
export async function rangeAll(base: string, prefix: string, consistency: 'linearizable' | 'stale' = 'linearizable'): Promise<Map<string, { value: unknown; modRevision: number }>> {
  const r = await sendThroughElections(`${base}/v1/kv?prefix=${encodeURIComponent(prefix)}&limit=100000&consistency=${consistency}`, {});
  if (r.status !== 200) throw new Error(`range ${prefix} on ${base}: ${r.status} ${r.text}`);
  if (r.json.more !== false) throw new Error(`range ${prefix} on ${base} was cut short`);
  return new Map(r.json.entries.map((e: { key: string; value: unknown; modRevision: number }) => [e.key, { value: e.value, modRevision: e.modRevision }]));
}

/** Asserts the `{ error: { code, message } }` shape every refusal has; returns the code. */
export function errorCode(r: Reply): string {
  const e = r.json?.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || e.message === '') {
    throw new Error(`expected a JSON {error:{code,message}} body, got ${r.status} ${r.headers.get('content-type')} ${r.text.slice(0, 200)}`);
  }
  return e.code;
}
