/**
 * `--join URL`: a node with an empty data directory asks a running cluster to add it. It first
 * learns the members' addresses (GET /v1/members), so it accepts the leader's messages before
 * it holds any configuration, then asks to be added (POST /v1/members with its own URL): as a
 * learner, promoted by the leader once caught up (`--learner`: it stays one). Answers that mean
 * "not now" (409, 5xx, no connection) are retried with backoff until it is a member; a refusal
 * that retrying cannot fix (400, 404) is logged and ends the attempts (the node keeps running).
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { MemberAddresses } from './memberAddresses.js';

export interface JoinOptions {
  readonly joinUrl: string;
  readonly id: string;
  /** This node's own URL, recorded in the configuration as its address. */
  readonly url: string;
  readonly role: 'voter' | 'learner';
  readonly addresses: MemberAddresses;
  readonly logger: Logger;
  /** Deadline of one POST: adding a voter waits for its catch-up. */
  readonly timeoutMs: number;
  readonly ca?: Buffer;
}

interface Answer {
  readonly status: number;
  readonly json: unknown;
}

const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5000;

export class Joiner {
  private cancelled = false;
  private wake: (() => void) | null = null;

  constructor(private readonly opts: JoinOptions) {}

  start(): void {
    void this.run().catch((err: unknown) => this.opts.logger.error({ err }, 'join: gave up on an unexpected error'));
  }

  cancel(): void {
    this.cancelled = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    const { joinUrl, url, role, logger } = this.opts;
    logger.info({ join: joinUrl, url, role }, `joining the cluster through ${joinUrl} as ${role === 'learner' ? 'a learner' : 'a voter (a learner until caught up)'}`);
    let backoff = FIRST_BACKOFF_MS;
    for (let attempt = 1; !this.cancelled; attempt++) {
      const outcome = await this.attempt();
      if (outcome === 'done' || outcome === 'refused') return;
      logger.warn({ attempt, retryInMs: backoff }, `join attempt ${attempt} failed: ${outcome}; retrying in ${backoff} ms`);
      await this.pause(backoff);
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
  }

  /** One round: learn the addresses, ask to be added. 'done', 'refused' or why to retry. */
  private async attempt(): Promise<string> {
    const { joinUrl, id, url, role, logger, addresses } = this.opts;
    let members: Answer;
    try {
      members = await request(new URL(`${joinUrl}/v1/members`), 'GET', undefined, 10_000, this.opts.ca);
    } catch (err) {
      return `GET ${joinUrl}/v1/members: ${(err as Error).message}`;
    }
    if (members.status !== 200) return `GET ${joinUrl}/v1/members answered ${members.status} ${codeOf(members)}`;
    const learned: Record<string, string> = {};
    for (const m of (members.json as { members?: { id: string; url: string | null }[] }).members ?? []) if (m.url) learned[m.id] = m.url;
    addresses.learn(learned);
    let answer: Answer;
    try {
      answer = await request(new URL(`${joinUrl}/v1/members`), 'POST', JSON.stringify({ id, url, role }), this.opts.timeoutMs, this.opts.ca);
    } catch (err) {
      return `POST ${joinUrl}/v1/members: ${(err as Error).message}`;
    }
    if (answer.status === 200) {
      const ms = (answer.json as { members?: { id: string; role: string }[] }).members ?? [];
      logger.info({ members: ms.map((m) => `${m.id}:${m.role}`) }, `joined the cluster as a ${role}`);
      return 'done';
    }
    const code = codeOf(answer);
    if (answer.status === 409 || answer.status >= 500) return `POST ${joinUrl}/v1/members answered ${answer.status} ${code}`;
    logger.error({ status: answer.status, code, answer: answer.json }, `join refused by the cluster (${answer.status} ${code}); not retrying: fix the configuration (--id, --url) and restart with an empty data directory`);
    return 'refused';
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function codeOf(a: Answer): string {
  const e = (a.json as { error?: { code?: string; message?: string } } | undefined)?.error;
  return e ? `${e.code ?? ''}: ${e.message ?? ''}` : '';
}

/** One JSON request, following 307/308 redirects to the leader (method and body kept). */
async function request(url: URL, method: string, body: string | undefined, timeoutMs: number, ca: Buffer | undefined, hops = 0): Promise<Answer> {
  const res = await new Promise<{ status: number; location: string | undefined; text: string }>((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = lib.request(url, { method, headers, ...(ca ? { ca } : {}) }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, location: r.headers.location, text: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
  if ((res.status === 307 || res.status === 308) && res.location && hops < 3) return request(new URL(res.location, url), method, body, timeoutMs, ca, hops + 1);
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}
