import type { RaftNode } from '@raftkit/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FileValueStats } from '@raftkit/kv/file-values';
import type { SyncedWriteTiming } from '@raftkit/log-rocksdb';
import type { AdmissionStats } from './connLimits.js';
import { EventLoopDelayMetric } from './eventLoopDelay.js';
import { LabelTally } from './labelTally.js';

/** Finer than the write's own buckets: on a fast disk both parts are well under a millisecond. */
const STORAGE_PART_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1];

/** Prometheus metrics of one server, fed by the node's events and sampled at scrape time. */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly proposalTally = new LabelTally<string>({ name: 'raftkit_proposals_total', help: 'Proposals submitted on this node', labelNames: ['outcome'], registers: [this.registry] });
  readonly proposals = this.proposalTally.counter;
  private readonly readTally = new LabelTally<string, string>({ name: 'raftkit_reads_total', help: 'Client reads', labelNames: ['consistency', 'outcome'], registers: [this.registry] });
  readonly reads = this.readTally.counter;
  readonly elections = new Counter({ name: 'raftkit_elections_total', help: 'Elections this node started', registers: [this.registry] });
  readonly leaderChanges = new Counter({ name: 'raftkit_leader_changes_total', help: 'Times the known leader changed', registers: [this.registry] });
  readonly fsync = new Histogram({
    name: 'raftkit_storage_write_seconds',
    help: 'Latency of durable (fsync) log writes',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  /** The two parts of a synced batch (fed by the storage's onSyncedWrite, see server.ts). */
  private readonly storageFsync = new Histogram({
    name: 'raftkit_storage_fsync_seconds',
    help: "Time the storage's write worker took to write and fsync one synced batch: the disk's share of a durable write",
    buckets: STORAGE_PART_BUCKETS,
    registers: [this.registry],
  });
  private readonly storageHandOff = new Histogram({
    name: 'raftkit_storage_handoff_seconds',
    help: 'Time one synced batch spent outside the disk write: the hand-off to the write worker and back',
    buckets: STORAGE_PART_BUCKETS,
    registers: [this.registry],
  });
  /**
   * Client writes (KV and txn routes) from the request's arrival to a successful answer:
   * committed by a majority and applied. Timed by the dashboard middleware (dashboardRoutes.ts).
   */
  readonly writeCommit = new Histogram({
    name: 'raftkit_write_commit_seconds',
    help: 'Client write latency from arrival to a successful answer (committed by a majority and applied)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly entriesPersisted = new Counter({ name: 'raftkit_entries_persisted_total', help: 'Log entries made durable', registers: [this.registry] });
  private readonly requestTally = new LabelTally<string, number>({ name: 'raftkit_http_requests_total', help: 'Client HTTP requests', labelNames: ['route', 'status'], registers: [this.registry] });
  readonly httpRequests = this.requestTally.counter;
  readonly peerErrors = new Counter({
    name: 'raftkit_peer_errors_total',
    help: 'Peer transport problems by code (RAFT_HTTP_CLOCK_SKEW: a peer clock outside the auth window; RAFT_HTTP_PEER_REJECTED:<code>: a peer refused our requests)',
    labelNames: ['code'],
    registers: [this.registry],
  });

  readonly eventLoopDelay = new EventLoopDelayMetric(this.registry);

  constructor(node: RaftNode<unknown>) {
    collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    gauge('raftkit_term', 'Current term', () => node.status().term);
    gauge('raftkit_commit_index', 'Commit index', () => node.status().commitIndex);
    gauge('raftkit_applied_index', 'Applied index', () => node.status().appliedIndex);
    gauge('raftkit_is_leader', '1 if this node is the leader', () => (node.status().role === 'leader' ? 1 : 0));
    new Gauge({
      name: 'raftkit_peer_replication_lag_entries',
      help: 'Leader only: entries each follower is behind the leader',
      labelNames: ['peer'],
      registers: [this.registry],
      collect() {
        this.reset();
        const st = node.status();
        for (const [peer, p] of Object.entries(st.progress)) if (peer !== st.id) this.set({ peer }, Math.max(0, st.lastIndex - p.match));
      },
    });
    gauge('raftkit_snapshot_index', "Index of this node's latest snapshot", () => node.status().snapshotIndex);
    // Snapshot transfers (issue 12), sampled from the node's counters at scrape time.
    const counterOf = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, registers: [this.registry], collect() { this.reset(); this.inc(read()); } });
    const stats = () => node.snapshotStats();
    counterOf('raftkit_snapshot_chunks_sent_total', 'Snapshot chunks this node sent to followers (resends included)', () => stats().sender.chunksSent);
    counterOf('raftkit_snapshot_bytes_sent_total', 'Snapshot bytes this node sent to followers (resends included)', () => stats().sender.bytesSent);
    counterOf('raftkit_snapshot_transfers_total', 'Snapshot transfers this node started as leader', () => stats().sender.transfers);
    counterOf('raftkit_snapshot_transfers_resumed_total', 'Transfers that resumed from what the follower already held', () => stats().sender.resumed);
    counterOf('raftkit_snapshot_transfers_failed_total', 'Transfers given up (no answer, refused, too many corrupt chunks); they start again', () => stats().sender.gaveUp);
    counterOf('raftkit_snapshot_chunks_received_total', 'Snapshot chunks this node received', () => stats().receiver.chunks);
    counterOf('raftkit_snapshot_corrupt_total', 'Received chunks or whole snapshots that failed their checksum (refused, resent)', () => stats().receiver.corruptChunks + stats().receiver.corruptSnapshots);
    let leader: string | null = null;
    node.on('stateChange', (s) => {
      if (s.role === 'candidate') this.elections.inc();
      if (s.leader !== leader) {
        if (s.leader !== null) this.leaderChanges.inc();
        leader = s.leader;
      }
    });
    const snapshotSeconds = new Histogram({
      name: 'raftkit_snapshot_seconds',
      help: 'Time to take a snapshot: write it (stream and storage) and switch to it',
      labelNames: ['phase'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    const snapshotBytes = new Gauge({ name: 'raftkit_snapshot_bytes', help: "Size of the latest snapshot this node took", registers: [this.registry] });
    node.on('snapshot', (t) => {
      snapshotSeconds.observe({ phase: 'write' }, t.writeMs / 1000);
      snapshotSeconds.observe({ phase: 'install' }, t.installMs / 1000);
      snapshotBytes.set(t.size);
    });
    node.on('persisted', ({ entries, ms }) => {
      this.fsync.observe(ms / 1000);
      this.entriesPersisted.inc(entries);
    });
  }

  /** Notes one synced batch of the log storage (RocksLogStorageOptions.onSyncedWrite). */
  observeSyncedWrite(timing: SyncedWriteTiming): void {
    this.storageFsync.observe(timing.writeMs / 1000);
    this.storageHandOff.observe(timing.handOffMs / 1000);
  }

  /** Counts one client request by route and status. */
  countRequest(route: string, status: number): void {
    this.requestTally.add(route, status);
  }

  /** Counts one client read by consistency and outcome. */
  countRead(consistency: string, outcome: string): void {
    this.readTally.add(consistency, outcome);
  }

  /** Counts one proposal by outcome. */
  countProposal(outcome: string): void {
    this.proposalTally.add(outcome);
  }

  /**
   * The log's size (dashboardStatus.ts reads it from the storage), at scrape time: entries held
   * and, when the storage reports it, its bytes on disk. A storage that cannot answer (closed
   * while shutting down) leaves the gauges without a sample rather than failing the scrape.
   */
  trackLogSize(read: () => Promise<{ entries: number; dbBytes: number | null }>): void {
    const registers = [this.registry];
    new Gauge({
      name: 'raftkit_log_entries',
      help: 'Entries held in the Raft log (firstIndex..lastIndex, the trailing log kept after a snapshot included)',
      registers,
      async collect() {
        const size = await read().catch(() => null);
        if (size) this.set(size.entries);
        else this.reset();
      },
    });
    new Gauge({
      name: 'raftkit_log_bytes',
      help: "Bytes of the log storage on disk: RocksDB's live SST files plus memtables (snapshots are files apart: raftkit_snapshot_bytes)",
      registers,
      async collect() {
        const size = await read().catch(() => null);
        if (size?.dbBytes != null) this.set(size.dbBytes);
        else this.reset();
      },
    });
  }

  /** The value files (--disk-values), sampled at scrape time. */
  trackDiskValues(read: () => FileValueStats): void {
    const registers = [this.registry];
    new Gauge({ name: 'raftkit_disk_values', help: 'Values kept in files (--disk-values) that the state still holds', registers, collect() { this.set(read().values); } });
    new Gauge({
      name: 'raftkit_disk_value_bytes',
      help: 'Bytes of the value files: live (still held) and file (written, not yet reclaimed)',
      labelNames: ['kind'],
      registers,
      collect() {
        const st = read();
        this.set({ kind: 'live' }, st.liveBytes);
        this.set({ kind: 'file' }, st.fileBytes);
      },
    });
    new Gauge({ name: 'raftkit_disk_value_fallbacks', help: 'Values kept in memory since start because writing them to a file failed', registers, collect() { this.set(read().fallbacks); } });
  }

  /** Connection and request limits (connLimits.ts), sampled at scrape time. */
  trackAdmission(read: () => AdmissionStats): void {
    const registers = [this.registry];
    new Gauge({
      name: 'raftkit_connections',
      help: 'Open connections by kind: client, overflow (over --max-client-connections, being refused), peer',
      labelNames: ['kind'],
      registers,
      collect() {
        const st = read();
        this.set({ kind: 'client' }, st.clientConnections);
        this.set({ kind: 'overflow' }, st.overflowConnections);
        this.set({ kind: 'peer' }, st.peerConnections);
      },
    });
    new Gauge({ name: 'raftkit_inflight_requests', help: 'Client requests being served', registers, collect() { this.set(read().inflightRequests); } });
    new Gauge({
      name: 'raftkit_overload_refusals',
      help: 'Connections and requests refused at the limits since start: accept (closed at once), connections or inflight (503 SERVER_OVERLOADED)',
      labelNames: ['reason'],
      registers,
      collect() {
        for (const [reason, n] of Object.entries(read().refused)) this.set({ reason }, n);
      },
    });
    new Gauge({
      name: 'raftkit_accept_errors',
      help: 'accept() failures since start by code (EMFILE: out of file descriptors)',
      labelNames: ['code'],
      registers,
      collect() {
        for (const [code, n] of Object.entries(read().acceptErrors)) this.set({ code }, n);
      },
    });
  }
}
