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

  /** `url` is (as far as a node told us) the leader's client URL. */
  learnLeader(url: string | null): void {
    if (url === null) return;
    try {
      this.leaderUrl = normalizeEndpoint(url);
    } catch {
      // A hint we cannot use is no hint.
    }
  }

  /** `url` failed (no answer, or a refusal that says try elsewhere): the next try goes elsewhere. */
  failed(url: string): void {
    if (url === this.leaderUrl) this.leaderUrl = null;
    if (url === this.endpoints[this.cursor]) this.cursor = (this.cursor + 1) % this.endpoints.length;
  }

  /** The leader is not known any more (e.g. an election): forget the hint, keep the cursor. */
  forgetLeader(): void {
    this.leaderUrl = null;
  }
}
