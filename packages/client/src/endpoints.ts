import { ClientErrorCode, RaftkitClientError } from './errors.js';

/** A base URL without its trailing slashes; refuses anything but http(s). */
export function normalizeEndpoint(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new RaftkitClientError(ClientErrorCode.InvalidArgument, `endpoint ${JSON.stringify(raw)} is not a URL (want http(s)://host:port)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new RaftkitClientError(ClientErrorCode.InvalidArgument, `endpoint ${JSON.stringify(raw)} must be http or https`);
  }
  return `${u.protocol}//${u.host}${u.pathname}`.replace(/\/+$/, '');
}

/**
 * Which endpoint to try next. The leader, once learnt (from /v1/status's `leaderUrl`, a 307
 * `Location` or a follower's `x-raftkit-forwarded-to`), comes first; otherwise the endpoints in
 * turn, moving on from one that failed. The leader may be a URL outside `endpoints` (the
 * cluster's own client URL for it).
 * Invariant: 0 <= cursor < endpoints.length.
 */
export class EndpointSet {
  readonly endpoints: readonly string[];
  private leaderUrl: string | null = null;
  private cursor = 0;
  /** When each endpoint last failed (ms since the epoch). */
  private readonly failedAt = new Map<string, number>();

  constructor(endpoints: readonly string[]) {
    if (endpoints.length === 0) throw new RaftkitClientError(ClientErrorCode.InvalidArgument, 'give at least one endpoint');
    this.endpoints = [...new Set(endpoints.map(normalizeEndpoint))];
  }

  get leader(): string | null {
    return this.leaderUrl;
  }

  /** The endpoint to send to now. */
  pick(): string {
    return this.leaderUrl ?? this.endpoints[this.cursor]!;
  }

  /**
   * `url` is (as far as a node told us) the leader's client URL. A hint from a node's status
   * (`secondHand`) naming a URL that failed within the last second is ignored: after a leader
   * dies its followers still name it until they elect another.
   */
  learnLeader(url: string | null, secondHand = false, now = Date.now()): void {
    if (url === null) return;
    let u: string;
    try {
      u = normalizeEndpoint(url);
    } catch {
      return; // A hint we cannot use is no hint.
    }
    if (secondHand && now - (this.failedAt.get(u) ?? -Infinity) < 1000) return;
    this.leaderUrl = u;
  }

  /** `url` failed (no answer, or a refusal that says try elsewhere): the next try goes elsewhere. */
  failed(url: string, now = Date.now()): void {
    this.failedAt.set(url, now);
    if (url === this.leaderUrl) this.leaderUrl = null;
    if (url === this.endpoints[this.cursor]) this.cursor = (this.cursor + 1) % this.endpoints.length;
  }

  /** The leader is not known any more (e.g. an election): forget the hint, keep the cursor. */
  forgetLeader(): void {
    this.leaderUrl = null;
  }
}
