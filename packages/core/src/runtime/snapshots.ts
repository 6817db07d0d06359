import type { RawNode } from '../consensus/rawNode.js';
import type { Message, NodeId, SnapshotMeta } from '../consensus/types.js';
import type { Clock } from './clock.js';
import type { LogStorage, StateMachine } from './interfaces.js';
import { SnapshotReceiver } from './snapshotReceiver.js';
import { SnapshotSender } from './snapshotSender.js';
import { Snapshotter, type SnapshotTaken } from './snapshotter.js';

/** How a node takes, keeps and streams snapshots (`RaftNodeOptions.snapshots`). */
export interface SnapshotOptions {
  /** Take a snapshot once this many entries were applied since the last one. Default `snapshotEvery` (10000). */
  readonly everyEntries?: number;
  /** ...or once the commands applied since the last one total this many bytes. Default 64 MiB. */
  readonly everyBytes?: number;
  /**
   * Entries kept below a snapshot when the log is compacted, so a follower lagging by fewer
   * catches up from the log, without a snapshot. Default 5000.
   */
  readonly trailingEntries?: number;
  /** Bytes per chunk sent to a follower. Default 1 MiB. */
  readonly chunkBytes?: number;
  /** Chunks in flight per follower, at most. Default 4. */
  readonly maxChunksInFlight?: number;
  /** Unacknowledged chunks are resent after this long. Default 2 election timeouts, at least 500 ms. */
  readonly chunkTimeoutMs?: number;
  /** Consecutive resends without progress before a transfer is given up (and started afresh). Default 10. */
  readonly maxRetries?: number;
}

export interface SnapshotsDeps<R> {
  readonly raw: RawNode;
  readonly storage: LogStorage;
  readonly stateMachine: StateMachine<R>;
  readonly clock: Clock;
  readonly electionMs: number;
  applied(): number;
  send(messages: readonly Message[]): void;
  step(m: Message): void;
  changed(): void;
  fail(err: unknown): void;
  /** A transfer to `peer` was given up (reported, rate-limited by the caller). */
  gaveUp(peer: NodeId, why: string): void;
  /** A snapshot this node took is now its snapshot. */
  taken(info: SnapshotTaken): void;
}

/**
 * Everything about snapshots a RaftNode does beside the consensus core: taking them (by
 * policy or on demand) and compacting to a trailing margin, streaming them to followers that
 * need one, receiving and installing a leader's.
 */
export class Snapshots<R> {
  readonly taker: Snapshotter<R>;
  readonly sender: SnapshotSender;
  readonly receiver: SnapshotReceiver;

  constructor(
    private readonly deps: SnapshotsDeps<R>,
    opts: SnapshotOptions,
    snapshotEvery: number,
    lastSnapshot: number,
  ) {
    const { raw, storage, stateMachine, clock } = deps;
    this.taker = new Snapshotter(
      { raw, storage, stateMachine, applied: deps.applied, changed: deps.changed, fail: deps.fail, taken: deps.taken },
      { everyEntries: opts.everyEntries ?? snapshotEvery, everyBytes: opts.everyBytes ?? 64 * 1024 * 1024, trailingEntries: opts.trailingEntries ?? 5000 },
      lastSnapshot,
    );
    const term = (): number => raw.status().term;
    this.sender = new SnapshotSender(
      { self: raw.id, storage, clock, term, send: (m) => deps.send([m]), gaveUp: (peer, why, damaged) => this.gaveUp(peer, why, damaged) },
      {
        chunkBytes: opts.chunkBytes ?? 1024 * 1024,
        window: opts.maxChunksInFlight ?? 4,
        timeoutMs: opts.chunkTimeoutMs ?? Math.max(500, 2 * deps.electionMs),
        maxRetries: opts.maxRetries ?? 10,
      },
    );
    this.receiver = new SnapshotReceiver({
      self: raw.id,
      storage,
      term,
      committed: () => raw.status().commitIndex,
      send: (m) => deps.send([m]),
      step: deps.step,
      fail: deps.fail,
    });
  }

  /**
   * Outgoing messages: a `snapshot` message is the core saying "this follower needs the
   * snapshot"; it starts (or continues) a transfer instead of going on the wire.
   */
  route(messages: readonly Message[]): readonly Message[] {
    if (!messages.some((m) => m.type === 'snapshot')) return messages;
    const rest: Message[] = [];
    for (const m of messages) {
      if (m.type === 'snapshot') this.sender.offer(m.to, m.meta);
      else rest.push(m);
    }
    return rest;
  }

  /** Incoming chunk traffic; false for any other message (the core's). */
  onMessage(m: Message): boolean {
    if (m.type === 'snapshotChunk') this.receiver.onChunk(m);
    else if (m.type === 'snapshotChunkResponse') this.sender.onResponse(m);
    else return false;
    return true;
  }

  tick(isLeader: boolean): void {
    if (isLeader) this.sender.tick();
    else this.sender.stopAll();
  }

  /** Takes a snapshot now; resolves with the latest snapshot's position. */
  takeNow(): Promise<SnapshotMeta> {
    return this.taker.takeNow();
  }

  async stop(): Promise<void> {
    this.sender.stopAll();
    await this.receiver.stop();
    await this.taker.settled();
  }

  private gaveUp(peer: NodeId, why: string, damaged: boolean): void {
    // The core probes again, and asks for a snapshot again if the follower still needs one.
    this.deps.raw.reportUnreachable(peer);
    this.deps.gaveUp(peer, why);
    // Our stored snapshot is unreadable or rotten: take a new one from the state machine, so the
    // next transfer sends good bytes instead of failing the same way for ever.
    if (damaged) void this.taker.takeNow(true).catch((err) => this.deps.fail(err));
  }
}
