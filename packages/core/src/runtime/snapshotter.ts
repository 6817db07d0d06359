import type { RawNode } from '../consensus/rawNode.js';
import type { SnapshotMeta } from '../consensus/types.js';
import type { LogStorage, StateMachine } from './interfaces.js';
import { isSnapshotStream, type SnapshotStream } from './snapshotStore.js';

export interface SnapshotPolicy {
  /** Take a snapshot once this many entries were applied since the last one. */
  readonly everyEntries: number;
  /** ...or once the entries applied since the last one hold this many bytes of commands. */
  readonly everyBytes: number;
  /**
   * Entries kept below a snapshot when the log is compacted, so a follower that lags by less
   * catches up from the log instead of being sent the whole state.
   */
  readonly trailingEntries: number;
}

export interface SnapshotterDeps<R> {
  readonly raw: RawNode;
  readonly storage: LogStorage;
  readonly stateMachine: StateMachine<R>;
  /** The index the state machine has applied up to (what `snapshot()` captures). */
  applied(): number;
  /** After a snapshot was installed or the log compacted: let the drive loop run. */
  changed(): void;
  /** A storage failure while snapshotting: fatal. */
  fail(err: unknown): void;
  /** A snapshot this node took is now its snapshot. */
  taken(info: SnapshotTaken): void;
}

/** What taking one snapshot cost (RaftNode's `snapshot` event). */
export interface SnapshotTaken {
  readonly index: number;
  readonly term: number;
  /** Bytes of the snapshot. */
  readonly size: number;
  /** Reading the state machine's stream and writing it to storage, finish included. */
  readonly writeMs: number;
  /** Switching to it (after any install or compaction before it) and compacting the log. */
  readonly installMs: number;
  /** The index the log was compacted to (unchanged if the trailing margin left nothing to drop). */
  readonly compactedTo: number;
}

/** A buffer as a stream of one chunk. */
async function* oneChunk(data: Uint8Array): SnapshotStream {
  if (data.length > 0) yield data;
}

/**
 * Takes the node's own snapshots (Raft §7) by policy or on demand, and compacts the log to a
 * trailing margin below them; installs the snapshots a leader sent. Saving a snapshot and
 * compacting are separate steps: the snapshot is written in the background, chunk by chunk, from
 * the state machine's stream (whose content was fixed when `snapshot()` returned), while the
 * node goes on applying; only the switch to it (and the compaction) waits for the storage.
 * One snapshot at a time; installs and compactions are serialised.
 */
export class Snapshotter<R> {
  /** Index of the latest snapshot taken or installed here. */
  private lastIndex: number;
  private bytesSince = 0;
  private inFlight: Promise<SnapshotMeta | null> | null = null;
  /** Serialises installs and compactions (the storage applies them in call order anyway). */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: SnapshotterDeps<R>,
    private readonly policy: SnapshotPolicy,
    lastIndex: number,
  ) {
    this.lastIndex = lastIndex;
  }

  /** An entry of `bytes` was applied. */
  noteApplied(bytes: number): void {
    this.bytesSince += bytes;
  }

  /** Starts a snapshot if the policy says so and none is under way. Call between Readies. */
  maybeStart(): void {
    if (this.inFlight) return;
    const since = this.deps.applied() - this.lastIndex;
    if (since <= 0) return;
    if (since < this.policy.everyEntries && this.bytesSince < this.policy.everyBytes) return;
    void this.start().catch((err) => this.deps.fail(err));
  }

  /**
   * Takes a snapshot now (after the one under way, if any); resolves with the latest snapshot's
   * position. Only if entries were applied since the last one, unless `replace` (the stored
   * snapshot is damaged: write a new one even at the same index).
   */
  async takeNow(replace = false): Promise<SnapshotMeta> {
    if (this.inFlight) await this.inFlight;
    if (this.deps.applied() > this.lastIndex || replace) await this.start(replace);
    return this.deps.raw.snapshotState().snapshot;
  }

  /** Settles once no snapshot is being taken. */
  async settled(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
    await this.lock;
  }

  /**
   * A snapshot from the leader, received whole and verified: make it the storage's snapshot,
   * then restore the state machine from it. The caller waited for every earlier write.
   */
  async installReceived(meta: SnapshotMeta): Promise<void> {
    await this.serial(async () => {
      const { storage, stateMachine } = this.deps;
      await storage.installSnapshot(meta);
      const reader = await storage.openSnapshot!();
      if (!reader || reader.meta.index !== meta.index) throw new Error(`storage did not install the snapshot at ${meta.index}`);
      try {
        await stateMachine.restore(reader.stream(), meta);
      } finally {
        await reader.close();
      }
      this.lastIndex = meta.index;
      this.bytesSince = 0;
    });
  }

  private start(replace = false): Promise<SnapshotMeta | null> {
    const run = this.take(replace).finally(() => {
      if (this.inFlight === run) this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  private async take(replace: boolean): Promise<SnapshotMeta | null> {
    const { raw, storage, stateMachine } = this.deps;
    const index = this.deps.applied();
    const membership = raw.confStateAt(index);
    const voters = [...new Set([...membership.config.voters, ...membership.config.votersOutgoing])];
    const meta: SnapshotMeta = { index, term: raw.term(index), voters, membership };
    // The state machine fixes the content now; reading it may take a while, applying goes on.
    const started = performance.now();
    const produced = await stateMachine.snapshot();
    this.bytesSince = 0;
    const stream = isSnapshotStream(produced) ? produced : oneChunk(produced);
    const writer = await storage.createSnapshot!(meta);
    let size = 0;
    try {
      for await (const chunk of stream) if (chunk.length > 0) await writer.write(chunk);
      size = (await writer.finish()).size;
    } catch (err) {
      await writer.abort().catch(() => undefined);
      throw err;
    }
    const written = performance.now();
    return this.serial(async () => {
      // A snapshot from the leader may have replaced the log meanwhile: this one is then stale.
      const { snapshot: current, compacted } = raw.snapshotState();
      // A replacement at the same index is safe only while the log still holds that entry:
      // installing it then keeps the log whole (installSnapshot's rule).
      const stale = current.index > meta.index || compacted >= meta.index || (current.index === meta.index && !replace);
      if (stale) {
        await writer.abort().catch(() => undefined);
        return null;
      }
      await storage.installSnapshot(meta);
      raw.snapshotTaken(meta);
      this.lastIndex = Math.max(this.lastIndex, meta.index);
      const to = meta.index - this.policy.trailingEntries;
      if (to > raw.snapshotState().compacted) {
        await storage.compact(to);
        raw.compact(to);
      }
      this.deps.changed();
      const installMs = performance.now() - written;
      this.deps.taken({ index, term: meta.term, size, writeMs: written - started, installMs, compactedTo: raw.snapshotState().compacted });
      return meta;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}
