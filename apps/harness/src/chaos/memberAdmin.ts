import { sleep, type ChaosCluster } from './cluster.js';

/** One member as GET /v1/members lists it. */
export interface MemberView {
  readonly id: string;
  readonly url: string | null;
  readonly role: 'voter' | 'learner';
  readonly outgoing: boolean;
}

/** GET /v1/members, and the body of every successful change. */
export interface MembersBody {
  readonly leader: string | null;
  readonly index: number;
  readonly committed: boolean;
  readonly joint: boolean;
  readonly members: readonly MemberView[];
}

export type AdminOutcome =
  | { readonly ok: true; readonly status: number; readonly body: unknown; readonly node: string }
  | { readonly ok: false; readonly why: string };

/** Refusals that say "not now" (no leader, another change or a transfer under way): try again. */
const TRY_AGAIN = new Set([
  'RAFT_NOT_LEADER', 'SERVER_NO_LEADER', 'SERVER_SHUTTING_DOWN', 'SERVER_FORWARD_FAILED', 'RAFT_MEMBERSHIP_CHANGE_IN_PROGRESS',
  'RAFT_TRANSFER_IN_PROGRESS', 'RAFT_PROPOSAL_DROPPED',
]);

/**
 * The membership API as an operator's script uses it: sent to a member, following 307s to the
 * leader (mapped from its proxy back to its own port), retried on "not now" refusals and on
 * connection errors until the deadline. A 2xx or a definite 4xx is the answer.
 */
export class MemberAdmin {
  constructor(private readonly cluster: ChaosCluster) {}

  async request(method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, via: string, deadlineMs: number): Promise<AdminOutcome> {
    const deadline = performance.now() + deadlineMs;
    let node = via;
    let why = 'deadline passed before any attempt';
    while (performance.now() < deadline) {
      const left = deadline - performance.now();
      try {
        const res = await fetch(this.cluster.urlOf(node) + path, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          redirect: 'manual',
          signal: AbortSignal.timeout(Math.max(1, Math.ceil(left))),
        });
        const text = await res.text();
        const location = res.headers.get('location');
        const to = res.status === 307 && location ? this.cluster.nodeOfUrl(new URL(location, this.cluster.urlOf(node)).href) : null;
        if (to) {
          node = to;
          continue;
        }
        const parsed = parse(text);
        const code = (parsed as { error?: { code?: string } } | null)?.error?.code ?? '';
        why = `${res.status} ${code}`.trim();
        if (res.status < 300) return { ok: true, status: res.status, body: parsed, node };
        if (res.status < 500 && !TRY_AGAIN.has(code)) return { ok: false, why };
      } catch (err) {
        why = (err as { cause?: { code?: string }; name?: string }).cause?.code ?? (err as Error).name ?? String(err);
        node = this.otherMember(node);
      }
      await sleep(150);
    }
    return { ok: false, why };
  }

  /** The leader's view of the membership, once a running member says it leads; null if none does in time. */
  async members(timeoutMs = 3000): Promise<MembersBody | null> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      for (const id of this.cluster.ids) {
        if (!this.cluster.isUp(id)) continue;
        const m = await this.membersOf(id);
        if (m && m.leader === id) return m;
      }
      await sleep(100);
    }
    return null;
  }

  async membersOf(id: string, timeoutMs = 500): Promise<MembersBody | null> {
    try {
      const res = await fetch(`${this.cluster.urlOf(id)}/v1/members`, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok ? ((await res.json()) as MembersBody) : null;
    } catch {
      return null;
    }
  }

  /** Waits until the leader's committed, non-joint configuration satisfies `ok`. */
  async waitFor(ok: (m: MembersBody) => boolean, timeoutMs: number): Promise<MembersBody | null> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const m = await this.members(Math.max(100, deadline - performance.now()));
      if (m && m.committed && !m.joint && ok(m)) return m;
      await sleep(100);
    }
    return null;
  }

  private otherMember(current: string): string {
    const up = this.cluster.ids.filter((id) => id !== current && this.cluster.isUp(id));
    return up[0] ?? current;
  }
}

export const votersOf = (m: MembersBody): string[] => m.members.filter((x) => x.role === 'voter').map((x) => x.id).sort();
export const learnersOf = (m: MembersBody): string[] => m.members.filter((x) => x.role === 'learner').map((x) => x.id).sort();

function parse(text: string): unknown {
  try {
    return text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}
