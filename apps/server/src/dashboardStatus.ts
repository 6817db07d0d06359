/**
 * The body of GET /v1/dashboard: this node's whole view in one answer, shaped for the page
 * at /ui (which asks every member for it and merges the answers). Only the leader knows its
 * followers' match index and replication state; a follower reports null for them.
 */
import type { LogStorage, NodeId, ProgressState, RaftNode } from '@raftkit/core';
import type { ClusterHistory, MembershipEvent, StateEvent } from './dashboardHistory.js';
import type { RateSample, RateSampler } from './dashboardSampler.js';
import { memberIds } from './memberAddresses.js';
import type { ServerMetrics } from './metrics.js';

/** What the dashboard reads of the storage; RocksLogStorage also gives its on-disk size. */
export type DashboardStorage = Pick<LogStorage, 'state' | 'openSnapshot'> & { rocksdbProperty?(name: string): string };

export interface DashboardMember {
  readonly id: NodeId;
  /** Where clients (and the page) reach it; null if this node knows no address. */
  readonly url: string | null;
  readonly role: 'voter' | 'learner';
  /** A voter of the outgoing half of a joint configuration only. */
  readonly outgoing: boolean;
  readonly self: boolean;
  /** Leader only (null elsewhere): highest index known replicated on it. */
  readonly match: number | null;
  /** Leader only: entries it is behind the leader's last index. */
  readonly lag: number | null;
  /** Leader only: probe (finding where logs agree), replicate (pipelining) or snapshot (being sent one). */
  readonly state: ProgressState | null;
  /** Peer transport backoff towards it (0: none), as this node's transport sees it. */
  readonly backoffMs: number;
}

export interface DashboardBody {
  readonly id: NodeId;
  /** Wall clock of the answer (ms since the epoch): lets the page line up histories. */
  readonly now: number;
  /** When this server process started (ms since the epoch); its history starts there. */
  readonly startedAt: number;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly leaderUrl: string | null;
  readonly running: boolean;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly snapshotIndex: number;
  /** Elections this node started (it became a candidate) and leader changes it saw, since start. */
  readonly elections: number;
  readonly leaderChanges: number;
  readonly membership: { readonly index: number; readonly committed: boolean; readonly joint: boolean };
  readonly members: readonly DashboardMember[];
  readonly storage: {
    /** Entries held in the log (firstIndex..lastIndex, a trailing log included). */
    readonly logEntries: number;
    /** RocksDB live SST files plus memtables, in bytes; null for other storages. */
    readonly dbBytes: number | null;
    readonly snapshot: { readonly index: number; readonly term: number; readonly bytes: number } | null;
  };
  readonly history: { readonly states: readonly StateEvent[]; readonly memberships: readonly MembershipEvent[] };
  readonly rates: { readonly intervalMs: number; readonly samples: readonly RateSample[] };
}

export interface DashboardStatusDeps {
  readonly node: RaftNode<unknown>;
  readonly metrics: ServerMetrics;
  readonly storage: DashboardStorage;
  readonly history: ClusterHistory;
  readonly sampler: RateSampler;
  /** Every member's client URL, this node's own included. */
  clientUrlOf(id: NodeId): string | null;
  /** Per-peer transport figures (HttpTransport.stats().peers). */
  peerStats?(): Readonly<Record<NodeId, { backoffMs?: number }>>;
  readonly startedAt: number;
  readonly now?: () => number;
}

/** Builds the body; the snapshot's size is read once per snapshot and remembered. */
export class DashboardStatus {
  private snapshotCache: { index: number; value: DashboardBody['storage']['snapshot'] } | null = null;

  constructor(private readonly deps: DashboardStatusDeps) {}

  async body(): Promise<DashboardBody> {
    const d = this.deps;
    const [stored, snapshot] = await Promise.all([d.storage.state(), this.snapshot()]);
    const st = d.node.status();
    const m = st.membership;
    const c = m.config;
    const incoming = new Set(c.voters);
    const outgoing = new Set(c.votersOutgoing);
    const peerStats = d.peerStats?.() ?? {};
    const members: DashboardMember[] = memberIds(m).sort().map((id) => {
      const p = st.progress[id];
      return {
        id,
        url: d.clientUrlOf(id),
        role: incoming.has(id) || outgoing.has(id) ? 'voter' : 'learner',
        outgoing: !incoming.has(id) && outgoing.has(id),
        self: id === st.id,
        match: p ? p.match : null,
        lag: p ? Math.max(0, st.lastIndex - p.match) : null,
        state: p ? p.state : null,
        backoffMs: peerStats[id]?.backoffMs ?? 0,
      };
    });
    return {
      id: st.id,
      now: (d.now ?? Date.now)(),
      startedAt: d.startedAt,
      role: st.role,
      term: st.term,
      leader: st.leader,
      leaderUrl: st.leader === null ? null : d.clientUrlOf(st.leader),
      running: st.running,
      commitIndex: st.commitIndex,
      appliedIndex: st.appliedIndex,
      lastIndex: st.lastIndex,
      firstIndex: stored.firstIndex,
      snapshotIndex: st.snapshotIndex,
      elections: await counterValue(d.metrics.elections),
      leaderChanges: await counterValue(d.metrics.leaderChanges),
      membership: { index: m.index, committed: m.committed, joint: c.votersOutgoing.length > 0 },
      members,
      storage: { logEntries: logEntries(stored), dbBytes: this.dbBytes(), snapshot },
      history: { states: d.history.states.items(), memberships: d.history.memberships.items() },
      rates: { intervalMs: d.sampler.intervalMs, samples: d.sampler.samples.items() },
    };
  }

  /** The log's size, as the body reports it; /metrics exports it too (raftkit_log_entries, raftkit_log_bytes). */
  async logSize(): Promise<{ entries: number; dbBytes: number | null }> {
    return { entries: logEntries(await this.deps.storage.state()), dbBytes: this.dbBytes() };
  }

  private async snapshot(): Promise<DashboardBody['storage']['snapshot']> {
    const index = this.deps.node.status().snapshotIndex;
    if (this.snapshotCache?.index === index) return this.snapshotCache.value;
    const reader = await this.deps.storage.openSnapshot();
    try {
      const value = reader ? { index: reader.meta.index, term: reader.meta.term, bytes: reader.size } : null;
      this.snapshotCache = { index: value?.index ?? index, value };
      return value;
    } finally {
      await reader?.close();
    }
  }

  private dbBytes(): number | null {
    const prop = this.deps.storage.rocksdbProperty?.bind(this.deps.storage);
    if (!prop) return null;
    try {
      const n = Number(prop('rocksdb.live-sst-files-size')) + Number(prop('rocksdb.cur-size-all-mem-tables'));
      return Number.isFinite(n) ? n : null;
    } catch {
      // Closed (shutting down): no figure rather than a failed page.
      return null;
    }
  }
}

/** Entries held: firstIndex..lastIndex, a trailing log included. */
const logEntries = (stored: { firstIndex: number; lastIndex: number }): number => Math.max(0, stored.lastIndex - stored.firstIndex + 1);

async function counterValue(c: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  let n = 0;
  for (const v of (await c.get()).values) n += v.value;
  return n;
}
