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

/** The transport as the book drives it; `removePeer` forgets a peer it was configured with. */
type PeerTransport = Pick<Transport, 'updatePeers'> & { removePeer?(peer: NodeId): void };

export class MemberAddresses {
  /** Addresses known from outside the log: --peers, this node's own URL, a join answer. */
  private readonly fallback = new Map<NodeId, string>();
  private membershipOf: (() => MembershipStatus) | null = null;
  /**
   * Members of the latest configuration known committed. A member being removed stays a peer
   * until its removal commits: a leader removing itself must still hear its followers' acks of
   * that very entry, or it never learns the change committed.
   */
  private committedMembers: NodeId[] = [];
  private transport: PeerTransport | null = null;
  /** --peers nodes the transport was configured with and still keeps. */
  private readonly configured: Set<NodeId>;

  constructor(
    private readonly selfId: NodeId,
    selfUrl: string | null,
    peers: Readonly<Record<NodeId, string>>,
  ) {
    for (const [id, url] of Object.entries(peers)) this.fallback.set(id, url);
    this.configured = new Set(Object.keys(peers));
    if (selfUrl !== null) this.fallback.set(selfId, selfUrl);
  }

  /** Binds the node (whose membership decides who is a member) and the transport to update. */
  bind(membership: () => MembershipStatus, transport: PeerTransport): void {
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
    const members = m ? [...new Set([...memberIds(m), ...(m.committed ? [] : this.committedMembers)])] : [];
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
    const m = this.membershipOf?.() ?? null;
    if (m?.committed) this.committedMembers = memberIds(m);
    const peers = this.book(m);
    delete peers[this.selfId];
    this.transport?.updatePeers?.(peers);
    // A configured peer stays in the transport although no map names it (a bootstrap
    // configuration names nobody); once it is out of the book, drop it explicitly.
    for (const id of this.configured) {
      if (peers[id] !== undefined || memberIds(m ?? emptyStatus).length === 0) continue;
      this.configured.delete(id);
      this.transport?.removePeer?.(id);
    }
  }
}

const emptyStatus = { config: { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false }, addresses: {}, index: 0, committed: true } as MembershipStatus;

/** Every member: voters of both halves of a joint configuration and learners. */
export function memberIds(m: MembershipStatus): NodeId[] {
  const c = m.config;
  return [...new Set([...c.voters, ...c.votersOutgoing, ...c.learners, ...c.learnersNext])];
}
