/**
 * Where each member of the cluster is reached. One URL per node serves both its peers and its
 * clients (one listener), so a member's address in the log is also where clients are sent.
 *
 * The log is the truth (each configuration entry carries its members' addresses), but a
 * brand-new cluster's bootstrap configuration carries none: until its first change, the
 * addresses of the --peers voters are known only from --peers. A node that joins learns them
 * from the member it joins through. Those are fallbacks, used for members whose address the
 * log does not hold; every change this server proposes writes the whole book into the log.
 */
import type { MembershipStatus, NodeId, Transport } from '@raftkit/core';

export class MemberAddresses {
  /** Addresses known from outside the log: --peers, this node's own URL, a join answer. */
  private readonly fallback = new Map<NodeId, string>();
  private membershipOf: (() => MembershipStatus) | null = null;
  private transport: Transport | null = null;

  constructor(
    private readonly selfId: NodeId,
    selfUrl: string | null,
    peers: Readonly<Record<NodeId, string>>,
  ) {
    for (const [id, url] of Object.entries(peers)) this.fallback.set(id, url);
    if (selfUrl !== null) this.fallback.set(selfId, selfUrl);
  }

  /** Binds the node (whose membership decides who is a member) and the transport to update. */
  bind(membership: () => MembershipStatus, transport: Transport): void {
    this.membershipOf = membership;
    this.transport = transport;
  }

  /** Addresses learnt from the cluster this node joins (GET /v1/members of a member). */
  learn(addresses: Readonly<Record<NodeId, string>>): void {
    for (const [id, url] of Object.entries(addresses)) if (id !== this.selfId) this.fallback.set(id, url);
    this.refresh();
  }

  /** Every member's address: the log's, else a fallback; members without either are left out. */
  book(m: MembershipStatus | null = this.membershipOf?.() ?? null): Record<NodeId, string> {
    const out: Record<NodeId, string> = {};
    const members = m ? memberIds(m) : [];
    // A node in no configuration yet (it is joining) must still accept the leader's messages.
    const ids = members.length > 0 ? members : [...this.fallback.keys()];
    for (const id of ids) {
      const url = m?.addresses[id] ?? this.fallback.get(id);
      if (url !== undefined) out[id] = url;
    }
    return out;
  }

  urlOf(id: NodeId): string | null {
    return this.membershipOf?.().addresses[id] ?? this.fallback.get(id) ?? null;
  }

  /** Hands the transport the peers of the current configuration (RaftNode calls this on changes). */
  refresh(): void {
    const peers = this.book();
    delete peers[this.selfId];
    this.transport?.updatePeers?.(peers);
  }
}

/** Every member: voters of both halves of a joint configuration and learners. */
export function memberIds(m: MembershipStatus): NodeId[] {
  const c = m.config;
  return [...new Set([...c.voters, ...c.votersOutgoing, ...c.learners, ...c.learnersNext])];
}
