import type { Message, NodeId, SnapshotChunkResponse, SnapshotMeta } from '../consensus/types.js';
import type { Clock } from './clock.js';
import { crc32c } from './crc32c.js';
import type { LogStorage } from './interfaces.js';
import type { SnapshotReader } from './snapshotStore.js';

export interface SnapshotSenderOptions {
  /** Bytes per chunk. Default 1 MiB. */
  readonly chunkBytes: number;
  /** Chunks sent and not yet acknowledged, at most. Default 4. */
  readonly window: number;
  /** Without an answer for this long, the unacknowledged chunks are sent again. */
  readonly timeoutMs: number;
  /** Consecutive timeouts without progress after which the transfer is given up. */
  readonly maxRetries: number;
}

export interface SnapshotSenderDeps {
  readonly self: NodeId;
  readonly storage: LogStorage;
  readonly clock: Clock;
  /** The leader's current term (chunks carry it). */
  term(): number;
  send(m: Message): void;
  /**
   * The transfer to `peer` ended without the follower taking the snapshot; `damaged` when this
   * node's stored snapshot cannot be read or does not match its checksum.
   */
  gaveUp(peer: NodeId, why: string, damaged: boolean): void;
}

/** Counters of the transfers a leader made, for tests and metrics. */
export interface SnapshotSendStats {
  transfers: number;
  chunksSent: number;
  bytesSent: number;
  completed: number;
  /** Transfers that resumed where the follower already was, and the offset of the latest one. */
  resumed: number;
  lastResumedFrom: number;
  gaveUp: number;
}

interface Transfer {
  readonly peer: NodeId;
  readonly reader: SnapshotReader;
  readonly term: number;
  /** Bytes the follower holds durably (its last `next`). */
  acked: number;
  /** Next offset to send. */
  sendAt: number;
  /** Whether the follower answered anything yet (the opening chunk is resent until it does). */
  heard: boolean;
  lastHeard: number;
  retries: number;
  /** Times the follower found the whole snapshot's SHA-256 wrong (every chunk's CRC fine). */
  wholeFailures: number;
  pumping: boolean;
  closed: boolean;
}

/**
 * The leader's side of snapshot transfers: streams its latest snapshot to each follower the
 * consensus core says needs one, in bounded chunks, a bounded number in flight, each with a
 * CRC-32C. An empty chunk at offset 0 opens the transfer; the follower answers with how much
 * of this very snapshot it already holds, so a transfer cut off (or a leader restarted)
 * resumes there instead of starting over. Chunks not acknowledged within `timeoutMs` are sent
 * again from the last acknowledged byte (go-back-N).
 */
export class SnapshotSender {
  private readonly transfers = new Map<NodeId, Transfer>();
  readonly stats: SnapshotSendStats = { transfers: 0, chunksSent: 0, bytesSent: 0, completed: 0, resumed: 0, lastResumedFrom: 0, gaveUp: 0 };

  constructor(
    private readonly deps: SnapshotSenderDeps,
    private readonly opts: SnapshotSenderOptions,
  ) {}

  /** The core asked to send `peer` the snapshot at `meta` (or newer); a transfer under way continues. */
  offer(peer: NodeId, meta: SnapshotMeta): void {
    const t = this.transfers.get(peer);
    if (t && !t.closed && t.term === this.deps.term() && t.reader.meta.index >= meta.index) return;
    if (t) this.close(t);
    void this.open(peer);
  }

  /** A follower answered a chunk. */
  onResponse(m: SnapshotChunkResponse): void {
    const t = this.transfers.get(m.from);
    if (!t || t.closed || m.checksum !== t.reader.checksum || m.index !== t.reader.meta.index) return;
    const now = this.deps.clock.now();
    if (!t.heard) {
      t.heard = true;
      if (m.next > 0) {
        this.stats.resumed++;
        this.stats.lastResumedFrom = m.next;
      }
    }
    t.lastHeard = now;
    switch (m.status) {
      case 'done':
        this.stats.completed++;
        this.close(t);
        return;
      case 'rejected':
        this.giveUp(t, 'the follower refused the snapshot');
        return;
      case 'corrupt':
        // The follower says where to go on from (0 if the whole snapshot failed its checksum).
        if (m.next === 0 && t.acked > 0 && ++t.wholeFailures >= 3) {
          // Every chunk arrived intact, yet the whole is wrong, again and again: the bytes this
          // node reads are not the snapshot its checksum describes. Stop; it is reported.
          this.giveUp(t, `the follower found the whole snapshot's SHA-256 wrong ${t.wholeFailures} times: this node's stored snapshot may be damaged`, true);
          return;
        }
        t.acked = Math.min(m.next, t.reader.size);
        t.sendAt = t.acked;
        t.retries++;
        if (t.retries > this.opts.maxRetries) {
          this.giveUp(t, `${t.retries} chunks failed their checksum`);
          return;
        }
        break;
      case 'ok':
        if (m.next > t.acked) {
          t.acked = Math.min(m.next, t.reader.size);
          t.retries = 0;
        } else if (m.next < t.acked) {
          // The follower holds less than it acknowledged: it restarted without what it had.
          t.acked = m.next;
          t.sendAt = m.next;
        }
        if (t.sendAt < t.acked) t.sendAt = t.acked;
        break;
    }
    void this.pump(t);
  }

  /** Resends what timed out; call on every tick. */
  tick(): void {
    const now = this.deps.clock.now();
    for (const t of this.transfers.values()) {
      if (t.closed || now - t.lastHeard < this.opts.timeoutMs) continue;
      t.lastHeard = now;
      if (++t.retries > this.opts.maxRetries) {
        this.giveUp(t, `no answer for ${t.retries} × ${this.opts.timeoutMs} ms`);
        continue;
      }
      t.sendAt = t.acked;
      if (!t.heard) this.sendChunk(t, 0, new Uint8Array(0));
      else void this.pump(t);
    }
  }

  /** Stops every transfer (leadership lost, or the node stops). */
  stopAll(): void {
    for (const t of [...this.transfers.values()]) this.close(t);
  }

  /** Whether a transfer to `peer` is under way. */
  sending(peer: NodeId): boolean {
    const t = this.transfers.get(peer);
    return t !== undefined && !t.closed;
  }

  private async open(peer: NodeId): Promise<void> {
    let reader: SnapshotReader | null;
    try {
      reader = await this.deps.storage.openSnapshot!();
    } catch (err) {
      this.deps.gaveUp(peer, `the snapshot could not be opened: ${(err as Error).message}`, true);
      return;
    }
    if (!reader) {
      this.deps.gaveUp(peer, 'this node has no snapshot to send', false);
      return;
    }
    if (this.transfers.has(peer) && !this.transfers.get(peer)!.closed) {
      void reader.close(); // another offer opened one meanwhile
      return;
    }
    const t: Transfer = { peer, reader, term: this.deps.term(), acked: 0, sendAt: 0, heard: false, lastHeard: this.deps.clock.now(), retries: 0, wholeFailures: 0, pumping: false, closed: false };
    this.transfers.set(peer, t);
    this.stats.transfers++;
    this.sendChunk(t, 0, new Uint8Array(0));
  }

  /** Sends chunks from `sendAt` while the window allows. */
  private async pump(t: Transfer): Promise<void> {
    if (t.pumping) return;
    t.pumping = true;
    try {
      const { chunkBytes, window } = this.opts;
      while (!t.closed && t.sendAt < t.reader.size && t.sendAt - t.acked < window * chunkBytes) {
        const at = t.sendAt;
        const data = await t.reader.read(at, chunkBytes);
        if (t.closed || t.sendAt !== at) continue; // rewound or closed while reading
        if (data.length === 0) break;
        t.sendAt = at + data.length;
        this.sendChunk(t, at, data);
      }
    } catch (err) {
      this.giveUp(t, `reading the snapshot failed: ${(err as Error).message}`, true);
    } finally {
      t.pumping = false;
    }
  }

  private sendChunk(t: Transfer, offset: number, data: Uint8Array): void {
    const { reader } = t;
    this.stats.chunksSent++;
    this.stats.bytesSent += data.length;
    this.deps.send({
      type: 'snapshotChunk',
      from: this.deps.self,
      to: t.peer,
      term: t.term,
      meta: reader.meta,
      size: reader.size,
      checksum: reader.checksum,
      offset,
      data,
      crc: crc32c(data),
    });
  }

  private giveUp(t: Transfer, why: string, damaged = false): void {
    this.stats.gaveUp++;
    this.close(t);
    this.deps.gaveUp(t.peer, why, damaged);
  }

  private close(t: Transfer): void {
    if (t.closed) return;
    t.closed = true;
    if (this.transfers.get(t.peer) === t) this.transfers.delete(t.peer);
    void t.reader.close().catch(() => {});
  }
}
