import { invariant, isSnapshotStream, type AppliedEntry, type SnapshotMeta, type SnapshotStream, type StateMachine } from '@raftkit/core';
import type { ChangeSink, KvChange } from './changes.js';
import { decodeCommand, type KvCommand, type KvWrite, type SessionTag } from './commands.js';
import { KvErrorCode, invalidArgument } from './errors.js';
import { KeySpace, type KeyRecord } from './keySpace.js';
import { grantLease, LeasedKeys, missingLease, reportRestoredLeases, revokeLease } from './leaseApply.js';
import type { LeaseSink } from './leaseKeeper.js';
import { LeaseTable, type LeaseInfo } from './leaseTable.js';
import type { KvCommandResult, KvWriteResult } from './results.js';
import { SessionTable } from './sessions.js';
import { snapshotStream } from './snapshot.js';
import { SnapshotDecoder } from './snapshotDecoder.js';
import type { WatchFilter, WatchOptions, WatchStream } from './watch.js';
import { WatchHub } from './watchHub.js';
import { executeTxn } from './txn.js';
import type { StoredTxnOp } from './txnCodec.js';
import { sameValue, type StoredValue, type ValueStore } from './values.js';

export interface KvStateMachineOptions {
  /**
   * A session idle for longer than this, in log time, expires (thesis §6.3). Default one hour.
   * Every replica must use the same value: it decides what `apply` does.
   */
  readonly sessionTtlMs?: number;
  /**
   * Most unacknowledged results one session may hold: a write whose seq is this far past the
   * session's first outstanding seq is refused. Default 1024. Same on every replica.
   */
  readonly maxPendingPerSession?: number;
  /** Revisions (that changed something) the watch history holds. Default 10000; 0: live watches only. Local. */
  readonly watchHistory?: number;
  /** Upper estimate of the bytes the watch history may hold. Default 64 MiB. Local. */
  readonly watchHistoryBytes?: number;
  /** Events a watch may queue before it ends with KV_WATCH_OVERFLOW. Default 10000. Local. */
  readonly watchMaxQueued?: number;
  /**
   * Where values' bytes are kept: by default in memory with their records. A
   * `FileValueStore` (`@raftkit/kv/file-values`) keeps large values in files, so the
   * state's memory grows with its keys, not its values. Local: replicas may differ.
   */
  readonly values?: ValueStore;
}

const DEFAULT_TTL_MS = 60 * 60 * 1000;
const DEFAULT_MAX_PENDING = 1024;

/**
 * The replicated key-value state machine: keys, values, the revision each key was last
 * written at, the lease table, the session table and the log clock. Pass it to `RaftNode.create` as
 * `stateMachine`; read it locally (after `node.readIndex()` for linearizable reads) with
 * `get` and `range`.
 */
export class KvStateMachine implements StateMachine<KvCommandResult> {
  private readonly ttlMs: number;
  private readonly maxPending: number;
  private readonly values: ValueStore | undefined;
  private keys: KeySpace;
  /** The leases and their keys. Invariant: matches the key records' `lease` (see LeasedKeys). */
  private leases = new LeaseTable();
  /** `keys` written through, keeping `leases` in step. */
  private writer: LeasedKeys;
  private leaseSinks: LeaseSink[] = [];
  private sessions: SessionTable;
  /** Index of the last command applied (no-op entries never reach us). Invariant: increases. */
  private applied = 0;
  /** The log clock: the largest stamp applied. Invariant: never decreases. */
  private now = 0;
  /** Subscribers to key changes; empty means apply collects no changes at all. */
  private sinks: ChangeSink[] = [];
  private readonly watchHub: WatchHub;

  constructor(options: KvStateMachineOptions = {}) {
    this.ttlMs = positiveOption('sessionTtlMs', options.sessionTtlMs, DEFAULT_TTL_MS);
    this.maxPending = positiveOption('maxPendingPerSession', options.maxPendingPerSession, DEFAULT_MAX_PENDING);
    this.sessions = new SessionTable(this.ttlMs, this.maxPending);
    this.values = options.values;
    if (this.values !== undefined && typeof this.values.hold !== 'function') throw invalidArgument('values must be a ValueStore (an object with hold(value))');
    this.keys = new KeySpace(this.values);
    this.writer = new LeasedKeys(this.keys, this.leases);
    this.watchHub = new WatchHub({
      ...(options.watchHistory !== undefined && { historyRevisions: options.watchHistory }),
      ...(options.watchHistoryBytes !== undefined && { historyBytes: options.watchHistoryBytes }),
      ...(options.watchMaxQueued !== undefined && { maxQueued: options.watchMaxQueued }),
    });
    // Subscribed before the first apply, so the history never claims revisions it did not see.
    this.subscribeChanges(this.watchHub);
  }

  /**
   * Changes of a key or prefix: the history from `fromRevision` (default: the next revision),
   * then live ones, in revision order, each once. Local to this replica, like `read`.
   * @throws KvError KV_COMPACTED (with `oldestRevision`) or KV_INVALID_ARGUMENT, synchronously.
   */
  watch(filter: WatchFilter, options?: WatchOptions): WatchStream {
    return this.watchHub.watch(filter, options);
  }

  /** The oldest `fromRevision` a watch on this replica accepts now. */
  get oldestWatchRevision(): number {
    return this.watchHub.oldestRevision;
  }

  /** Watches open on this replica. */
  get watcherCount(): number {
    return this.watchHub.watcherCount;
  }

  /** The log index the local state reflects (the last entry applied here, or restored). */
  get revision(): number {
    return this.applied;
  }

  /** The log clock, in the proposers' milliseconds. */
  get logClock(): number {
    return this.now;
  }

  /** Number of live sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Number of keys held. */
  get size(): number {
    return this.keys.size;
  }

  /** The local record of `key`. Not linearizable by itself: see KvClient. */
  read(key: string): KeyRecord | undefined {
    return this.keys.get(key);
  }

  /** Up to `limit` local records of keys starting with `prefix`, in key order. */
  readRange(prefix: string, limit: number): { entries: [string, KeyRecord][]; more: boolean } {
    return this.keys.range(prefix, limit);
  }

  /** Whether session `clientId` is live, and the seqs whose results it still caches. */
  session(clientId: number): { lastSeen: number; firstOutstanding: number; cached: number[] } | undefined {
    const s = this.sessions.get(clientId);
    if (!s) return undefined;
    return { lastSeen: s.lastSeen, firstOutstanding: s.firstOutstanding, cached: [...s.results.keys()].sort((a, b) => a - b) };
  }

  /**
   * Calls `sink.applied(revision, changes)` after every applied entry that changed at least
   * one key (a delete of an absent key, a failed cas, a replayed duplicate change nothing), and
   * `sink.restored(revision)` after every restore. Synchronous, inside apply/restore: the sink
   * must not throw. Returns a function that unsubscribes.
   */
  subscribeChanges(sink: ChangeSink): () => void {
    this.sinks = [...this.sinks, sink];
    return () => {
      this.sinks = this.sinks.filter((s) => s !== sink);
    };
  }

  /**
   * Calls `sink.granted` / `sink.revoked` for every lease grant and revoke applied (the
   * leader's LeaseKeeper subscribes), and after a restore for every lease it removed or added.
   * Synchronous, inside apply: the sink must not throw. Returns a function that unsubscribes.
   */
  subscribeLeases(sink: LeaseSink): () => void {
    this.leaseSinks = [...this.leaseSinks, sink];
    return () => {
      this.leaseSinks = this.leaseSinks.filter((s) => s !== sink);
    };
  }

  /** Every lease of the local table, ascending by id. Local, like `read`. */
  leaseList(): LeaseInfo[] {
    return this.leases.list();
  }

  /** Lease `id` of the local table, or undefined. */
  lease(id: number): LeaseInfo | undefined {
    return this.leases.get(id);
  }

  /** The keys attached to lease `id`, in key order; undefined if there is no such lease. */
  leaseKeys(id: number): string[] | undefined {
    return this.leases.keysOf(id);
  }

  /** Never throws for a bad command: the error is the result (a throw would stop the node). */
  apply(entry: AppliedEntry): KvCommandResult {
    invariant(entry.index > this.applied, `kv apply of index ${entry.index} after ${this.applied}`);
    this.applied = entry.index;
    let cmd: KvCommand;
    try {
      cmd = decodeCommand(entry.data);
    } catch (err) {
      return errorResult(entry.index, KvErrorCode.BadCommand, `entry ${entry.index} is not a kv command: ${(err as Error).message}`);
    }
    // The log clock moves before expiry, so a command's own session can expire under it.
    this.now = Math.max(this.now, cmd.stamp);
    this.sessions.expire(this.now);
    return this.run(cmd, entry.index);
  }

  /**
   * The state now, as a stream of chunks of at most 256 KiB (layout in snapshot.ts). Its
   * content is fixed here: later `apply` calls do not change what it yields, however slowly it
   * is read. Taking it costs a copy of the sorted key index (pointers) and of the session
   * table; each key first written after it then saves its old record for the stream (see
   * KeySpaceCapture). The stream encodes lazily and may be read more than once.
   */
  snapshot(): SnapshotStream {
    return snapshotStream({
      index: this.applied,
      logClock: this.now,
      sessions: this.sessions.capture(),
      keys: this.keys.capture(),
      leases: this.leases.capture(),
    });
  }

  /**
   * Replaces the state with a snapshot's, given whole or as a stream cut anywhere; decodes as
   * it reads and never joins the chunks. The state changes only once every byte decoded and
   * the checksum matched.
   * @throws KvError KV_SNAPSHOT_CORRUPT (fatal to the node, as it should be); errors of the
   *   stream itself pass through. Either way the previous state is kept.
   */
  async restore(data: Uint8Array | SnapshotStream, meta: SnapshotMeta): Promise<void> {
    const decoder = new SnapshotDecoder(this.ttlMs, this.maxPending, this.values);
    const before = this.applied;
    if (isSnapshotStream(data)) for await (const chunk of data) decoder.push(chunk);
    else decoder.push(data);
    const decoded = decoder.finish();
    // Applies landing while the stream was read would be silently dropped by the swap below.
    invariant(this.applied === before, `kv apply ran during restore (index ${before} to ${this.applied})`);
    // The runtime's snapshot index may be past ours: it counts no-op entries we never see.
    // Keeping our own index makes every replica report the same revision for the same state.
    invariant(decoded.index <= meta.index, `kv snapshot at ${decoded.index} restored as index ${meta.index}`);
    const leasesBefore = this.leases;
    this.keys = decoded.keys;
    this.leases = decoded.leases;
    this.writer = new LeasedKeys(this.keys, this.leases);
    this.sessions = decoded.sessions;
    this.applied = decoded.index;
    this.now = decoded.logClock;
    for (const sink of this.sinks) sink.restored(decoded.index);
    reportRestoredLeases(leasesBefore, this.leases, this.leaseSinks);
  }

  private run(cmd: KvCommand, index: number): KvCommandResult {
    switch (cmd.type) {
      case 'registerSession':
        this.sessions.register(index, this.now);
        return { type: 'session', revision: index, clientId: index };
      case 'keepAlive':
      case 'closeSession':
        return this.sessionCommand(cmd.type, cmd.clientId, index);
      case 'write':
        if (cmd.session === null) return this.execute(cmd.write, index);
        return this.runTagged(cmd.session, cmd.write, index);
    }
  }

  private sessionCommand(type: 'keepAlive' | 'closeSession', clientId: number, index: number): KvCommandResult {
    const session = this.sessions.get(clientId);
    if (!session) return errorResult(index, KvErrorCode.SessionExpired, `session ${clientId} is not live`);
    if (type === 'closeSession') this.sessions.close(clientId);
    else this.sessions.touch(session, this.now);
    return { type: 'session', revision: index, clientId };
  }

  /** Thesis §6.3: run a tagged write once; replay its cached result to duplicates. */
  private runTagged(tag: SessionTag, write: KvWrite, index: number): KvCommandResult {
    const admission = this.sessions.admit(tag, index, this.now);
    if (admission.kind === 'replay') return admission.result;
    if (admission.kind === 'reject') return errorResult(index, admission.code, admission.message);
    const result = this.execute(write, index);
    admission.session.results.set(tag.seq, result);
    return result;
  }

  /** Runs a write and reports its changes, if anyone listens (else collects none). */
  private execute(write: KvWrite, index: number): KvWriteResult {
    if (this.sinks.length === 0) return this.executeWrite(write, index, null);
    const changes: KvChange[] = [];
    const result = this.executeWrite(write, index, changes);
    if (changes.length > 0) for (const sink of this.sinks) sink.applied(index, changes);
    return result;
  }

  /** Runs lease commands here; key writes go through `execute` on the lease-keeping writer. */
  private executeWrite(write: KvWrite, index: number, changes: KvChange[] | null): KvWriteResult {
    switch (write.op) {
      case 'leaseGrant':
        return grantLease(this.leases, write.id, write.ttlMs, index, this.leaseSinks);
      case 'leaseRevoke':
        return revokeLease(this.keys, this.leases, write, index, changes, this.leaseSinks);
      case 'put':
        // A put naming a lease that does not exist fails whole, writing nothing.
        return missingLease(this.leases, [write.lease ?? 0], index) ?? execute(this.writer, write, index, changes);
      case 'txn':
        return executeTxn(this.writer, write, index, changes, (ops) => missingLease(this.leases, leasesOf(ops), index));
      default:
        return execute(this.writer, write, index, changes);
    }
  }
}

/** The leases a txn branch's puts name. */
function* leasesOf(ops: readonly StoredTxnOp[]): Generator<number> {
  for (const op of ops) if (op.op === 'put') yield op.lease;
}

/**
 * Applies one key write at `index`. Deterministic; never throws. `changes`, when not null,
 * receives every key it changed, in op order.
 */
function execute(keys: LeasedKeys, write: Exclude<KvWrite, { op: 'txn' | 'leaseGrant' | 'leaseRevoke' }>, index: number, changes: KvChange[] | null): KvWriteResult {
  switch (write.op) {
    case 'put':
      setKey(keys, write.key, write.value, index, write.lease ?? 0, changes);
      return { type: 'put', revision: index };
    case 'delete': {
      const prev = keys.delete(write.key);
      if (prev !== undefined) changes?.push({ type: 'delete', key: write.key, prev });
      return { type: 'delete', revision: index, deleted: prev !== undefined };
    }
    case 'cas': {
      const current = keys.get(write.key)?.value ?? null;
      const matches = current === null || write.expected === null ? current === write.expected : sameValue(current, write.expected);
      if (!matches) return { type: 'cas', revision: index, ok: false, current };
      setKey(keys, write.key, write.value, index, 0, changes);
      return { type: 'cas', revision: index, ok: true };
    }
    case 'putMany':
      for (const e of write.entries) setKey(keys, e.key, e.value, index, 0, changes);
      return { type: 'putMany', revision: index, count: write.entries.length };
  }
}

function setKey(keys: LeasedKeys, key: string, value: StoredValue, index: number, lease: number, changes: KvChange[] | null): void {
  if (changes === null) {
    keys.set(key, value, index, lease);
    return;
  }
  const prev = keys.get(key);
  const record = keys.set(key, value, index, lease);
  changes.push(prev === undefined ? { type: 'put', key, record } : { type: 'put', key, record, prev });
}

const errorResult = (revision: number, code: KvErrorCode, message: string): KvCommandResult => ({ type: 'error', revision, code, message });

function positiveOption(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw invalidArgument(`${name} must be a positive integer, got ${v}`);
  return v;
}
