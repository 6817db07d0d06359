import { sleep } from './cluster.js';
import type { Random } from './random.js';

/** What the client needs to know about the cluster. */
export interface Nodes {
  readonly ids: readonly string[];
  urlOf(id: string): string;
  /** The node a (possibly proxied) URL leads to. */
  nodeOfUrl(url: string): string | null;
}

export interface RequestSpec {
  readonly method: 'GET' | 'PUT' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Whether an attempt can change state: then a lost answer makes the outcome unknown. */
  readonly mutates: boolean;
}

/**
 * How a request ended after its retries. `maybeApplied`: some attempt of a mutating request
 * reached a node and its answer was lost or inconclusive, so it may have taken effect.
 * - `answered`: a node gave a definite answer (2xx, or a 4xx saying the request was refused).
 * - `gaveUp`: the deadline passed.
 */
export type RequestOutcome =
  | {
      readonly kind: 'answered';
      readonly status: number;
      readonly body: unknown;
      readonly node: string;
      readonly attempts: number;
      readonly maybeApplied: boolean;
    }
  | { readonly kind: 'gaveUp'; readonly maybeApplied: boolean; readonly reason: string; readonly attempts: number };

export interface KvHttpOptions {
  /** Deadline of a whole operation, retries included. */
  readonly opTimeoutMs: number;
  /** Deadline of one HTTP attempt, so a paused node costs one attempt, not the whole op. */
  readonly attemptTimeoutMs: number;
}

/** 5xx codes a server sends before proposing anything: the attempt surely did nothing. */
const NOT_PROPOSED = new Set(['RAFT_NOT_LEADER', 'SERVER_SHUTTING_DOWN', 'SERVER_NO_LEADER', 'SERVER_OVERLOADED']);

type Attempt =
  | { readonly kind: 'done'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'redirect'; readonly node: string }
  | { readonly kind: 'retry'; readonly maybeApplied: boolean; readonly reason: string; readonly switchNode: boolean };

/**
 * The chaos clients' HTTP access to the KV API: follows 307s to the leader (mapped back from
 * the peer proxy to the node's own port), moves to another node on connection errors and
 * retries until the operation's deadline. Retrying a write is only safe because writes carry
 * the same session tag on every attempt, so the server applies them at most once.
 */
export class KvHttp {
  constructor(
    private readonly nodes: Nodes,
    private readonly options: KvHttpOptions,
    private readonly rand: Random,
  ) {}

  async request(spec: RequestSpec, firstNode: string, opTimeoutMs = this.options.opTimeoutMs): Promise<RequestOutcome> {
    const deadline = performance.now() + opTimeoutMs;
    let node = firstNode;
    let maybeApplied = false;
    let reason = 'deadline passed before any attempt';
    let redirects = 0;
    for (let attempts = 1; ; attempts++) {
      const left = deadline - performance.now();
      if (left <= 0) return { kind: 'gaveUp', maybeApplied, reason, attempts: attempts - 1 };
      const a = await this.attempt(spec, node, Math.min(left, this.options.attemptTimeoutMs));
      if (a.kind === 'done') return { kind: 'answered', status: a.status, body: a.body, node, attempts, maybeApplied };
      if (a.kind === 'redirect') {
        node = a.node;
        // Nodes that disagree on the leader can bounce a request between them: slow down.
        if (++redirects > 1) await sleep(20);
        continue;
      }
      maybeApplied ||= spec.mutates && a.maybeApplied;
      reason = `${node}: ${a.reason}`;
      if (a.switchNode) node = this.otherNode(node);
      await sleep(Math.min(50, Math.max(0, deadline - performance.now())));
    }
  }

  private async attempt(spec: RequestSpec, node: string, timeoutMs: number): Promise<Attempt> {
    // Outside the try: a bad argument is a harness bug, not a network failure.
    const signal = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)));
    let res: Response;
    try {
      res = await fetch(this.nodes.urlOf(node) + spec.path, {
        method: spec.method,
        headers: { ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}), ...spec.headers },
        ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
        redirect: 'manual',
        signal,
      });
    } catch (err) {
      return networkFailure(err);
    }
    if (res.status === 307) return this.redirect(res);
    const body = await readBody(res);
    if (body === undefined) return { kind: 'retry', maybeApplied: true, reason: `HTTP ${res.status}, body lost`, switchNode: true };
    if (res.status < 500) return { kind: 'done', status: res.status, body };
    const code = errorCode(body);
    return { kind: 'retry', maybeApplied: !NOT_PROPOSED.has(code), reason: `HTTP ${res.status} ${code}`, switchNode: true };
  }

  private async redirect(res: Response): Promise<Attempt> {
    await res.arrayBuffer().catch(() => undefined);
    const location = res.headers.get('location');
    const node = location ? this.nodes.nodeOfUrl(location) : null;
    if (node === null) return { kind: 'retry', maybeApplied: false, reason: `307 to unknown ${location}`, switchNode: true };
    return { kind: 'redirect', node };
  }

  private otherNode(current: string): string {
    const others = this.nodes.ids.filter((id) => id !== current);
    return others[Math.floor(this.rand() * others.length)] ?? current;
  }
}

/**
 * A refused connection never reached the server; a timeout or a broken connection may have.
 * fetch reports network errors as a TypeError with the socket error as its cause.
 */
function networkFailure(err: unknown): Attempt {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return { kind: 'retry', maybeApplied: true, reason: 'timed out', switchNode: true };
  if (!(err instanceof TypeError)) throw err;
  const code = e.cause?.code ?? e.cause?.message ?? err.message;
  return { kind: 'retry', maybeApplied: code !== 'ECONNREFUSED', reason: code, switchNode: true };
}

async function readBody(res: Response): Promise<unknown> {
  try {
    const text = await res.text();
    return text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** The `error.code` of a JSON error body, or ''. */
export function errorCode(body: unknown): string {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : '';
}
