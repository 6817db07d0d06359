import type { Message, NodeId, RaftNode, Transport, TransportHandler } from '@raftkit/core';

/**
 * What the leader last told this node about its commit index (a lower bound of it). The
 * runtime's status has only this node's own commit index, which a follower that cannot get
 * the entries (or the snapshot) it misses never advances: issue 9 found one stuck at commit 1
 * for ever while /readyz said 200. So the server reads the leader's number off the messages
 * that carry it.
 */
function leaderCommitIn(m: Message): number | null {
  switch (m.type) {
    case 'append':
      return m.commit;
    case 'heartbeat':
      // Capped by the leader at what it believes we hold: a lower bound only.
      return m.commit;
    case 'snapshotChunk':
      // The snapshot being streamed to us: the leader has committed at least its index.
      return m.meta.index;
    case 'readIndexResponse':
      // The leader's commit index when it confirmed the read; 0 from a node that is not leader.
      return m.index > 0 ? m.index : null;
    default:
      return null;
  }
}

/**
 * A Transport that passes everything through and notes, per (term, leader), the highest commit
 * index the leader has sent. Wraps the real transport given to the node.
 */
export class LeaderCommitTap implements Transport {
  readonly id: NodeId;
  private seen: { term: number; from: NodeId; commit: number } | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly inner: Transport,
    /** What the node's `updatePeers` calls become (the server completes the addresses first). */
    private readonly onUpdatePeers: (addresses: Readonly<Record<NodeId, string>>) => void = (a) => inner.updatePeers?.(a),
  ) {
    this.id = inner.id;
  }

  updatePeers(addresses: Readonly<Record<NodeId, string>>): void {
    this.onUpdatePeers(addresses);
  }

  start(handler: TransportHandler): Promise<void> {
    return this.inner.start({
      onMessage: (m) => {
        this.observe(m);
        handler.onMessage(m);
      },
      ...(handler.onUnreachable ? { onUnreachable: (peer: NodeId) => handler.onUnreachable!(peer) } : {}),
    });
  }

  send(messages: readonly Message[]): void {
    this.inner.send(messages);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The highest commit index `leader` sent in `term`, or null if it sent none. */
  commitOf(term: number, leader: NodeId): number | null {
    const s = this.seen;
    return s && s.term === term && s.from === leader ? s.commit : null;
  }

  /** Resolves true at the next read-index answer from a leader, false after `timeoutMs`. */
  nextAnswer(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }

  private observe(m: Message): void {
    const commit = leaderCommitIn(m);
    if (commit === null) return;
    const s = this.seen;
    if (s === null || m.term > s.term || (m.term === s.term && m.from !== s.from)) this.seen = { term: m.term, from: m.from, commit };
    else if (m.term === s.term) s.commit = Math.max(s.commit, commit);
    if (m.type === 'readIndexResponse') {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }
}

export type NotReadyReason = 'NODE_STOPPED' | 'NO_LEADER' | 'REPLAYING' | 'LEADER_UNCONFIRMED' | 'LAGGING';

export interface ReadinessVerdict {
  readonly ready: boolean;
  /** Which condition failed (absent when ready). */
  readonly reason?: NotReadyReason;
  readonly message: string;
  readonly leader: NodeId | null;
  readonly appliedIndex: number;
  /** The leader's commit index as last communicated to this node (its own on the leader). */
  readonly leaderCommitIndex: number | null;
  readonly lag: number | null;
  readonly maxLag: number;
}

export interface ReadinessOptions {
  /** Ready while applied is at most this many entries behind the leader's commit (--ready-max-lag). */
  readonly maxLag: number;
  /** How long a follower waits for the leader to answer its read-index probe. */
  readonly probeTimeoutMs: number;
}

/**
 * Readiness = caught up enough to serve (issue 9 item 3). In order, a node is ready when:
 * 1. its Raft node runs;
 * 2. it knows a leader of its current term;
 * 3. it has applied everything it had committed when it started (its own log replayed);
 * 4. a follower has heard the leader's commit index just now: each check sends a read-index
 *    request (thesis §6.4) and waits for the answer, which carries that index;
 * 5. its applied index is at most `maxLag` entries behind the leader's commit index (a follower
 *    waiting for a snapshot it cannot get stays behind by the whole gap).
 */
export class Readiness {
  private readonly startCommit: number;
  private probe: Promise<boolean> | null = null;

  constructor(
    private readonly node: RaftNode<unknown>,
    private readonly tap: LeaderCommitTap,
    private readonly opts: ReadinessOptions,
  ) {
    this.startCommit = node.status().commitIndex;
  }

  async check(): Promise<ReadinessVerdict> {
    let st = this.node.status();
    const base = { leader: st.leader, appliedIndex: st.appliedIndex, leaderCommitIndex: null, lag: null, maxLag: this.opts.maxLag };
    if (!st.running) return { ...base, ready: false, reason: 'NODE_STOPPED', message: 'the raft node has stopped' };
    if (st.leader === null) return { ...base, ready: false, reason: 'NO_LEADER', message: 'no leader known: an election is under way, or this node cannot reach a majority' };
    if (st.appliedIndex < this.startCommit) {
      return { ...base, ready: false, reason: 'REPLAYING', message: `replaying its log: applied ${st.appliedIndex} of the ${this.startCommit} entries it had committed when it started` };
    }
    let leaderCommit: number | null = st.commitIndex;
    if (st.leader !== st.id) {
      const answered = await this.confirm();
      st = this.node.status();
      leaderCommit = answered && st.leader !== null ? this.tap.commitOf(st.term, st.leader) : null;
      if (leaderCommit === null) {
        const message = `the leader ${st.leader ?? '(none now)'} did not tell this node its commit index within ${this.opts.probeTimeoutMs} ms (read-index probe unanswered): it may be unreachable`;
        return { ...base, leader: st.leader, appliedIndex: st.appliedIndex, ready: false, reason: 'LEADER_UNCONFIRMED', message };
      }
    }
    const lag = Math.max(0, leaderCommit - st.appliedIndex);
    const verdict = { leader: st.leader, appliedIndex: st.appliedIndex, leaderCommitIndex: leaderCommit, lag, maxLag: this.opts.maxLag };
    if (lag > this.opts.maxLag) {
      const message = `applied index ${st.appliedIndex} is ${lag} entries behind the leader's commit index ${leaderCommit} (over --ready-max-lag ${this.opts.maxLag}): catching up, by snapshot if the leader compacted its log`;
      return { ...verdict, ready: false, reason: 'LAGGING', message };
    }
    return { ...verdict, ready: true, message: 'caught up' };
  }

  /** One read-index probe at a time, shared by concurrent checks. */
  private confirm(): Promise<boolean> {
    this.probe ??= (async () => {
      const answer = this.tap.nextAnswer(this.opts.probeTimeoutMs);
      // Only the answer's index matters here; the read itself may wait or time out.
      this.node.readIndex({ timeoutMs: this.opts.probeTimeoutMs }).catch(() => undefined);
      try {
        return await answer;
      } finally {
        this.probe = null;
      }
    })();
    return this.probe;
  }
}
