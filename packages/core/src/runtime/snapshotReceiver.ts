import type { Message, NodeId, SnapshotChunkRequest, SnapshotChunkStatus } from '../consensus/types.js';
import { ErrorCode, isRaftError } from '../errors.js';
import { crc32c } from './crc32c.js';
import type { LogStorage } from './interfaces.js';
import type { SnapshotWriter } from './snapshotStore.js';

export interface SnapshotReceiverDeps {
  readonly self: NodeId;
  readonly storage: LogStorage;
  /** This node's current term and commit index. */
  term(): number;
  committed(): number;
  send(m: Message): void;
  /** Steps a message into the consensus core (the `snapshot` message, once the bytes are whole). */
  step(m: Message): void;
  /** A storage failure: fatal to the node. */
  fail(err: unknown): void;
}

/** Counters of what a follower received, for tests and metrics. */
export interface SnapshotReceiveStats {
  chunks: number;
  bytesWritten: number;
  corruptChunks: number;
  corruptSnapshots: number;
  installsOffered: number;
}

interface Incoming {
  readonly key: string;
  readonly writer: SnapshotWriter;
  finished: boolean;
}

/**
 * The follower's side of snapshot transfers: stores each chunk durably (through the
 * storage's resumable `SnapshotWriter`) before acknowledging it, refuses a chunk whose CRC
 * fails and a snapshot whose SHA-256 fails (they are sent again, never installed), and once
 * every byte is there hands the consensus core the `snapshot` message, which decides whether
 * to install it. Chunks are handled one at a time, in arrival order.
 */
export class SnapshotReceiver {
  private incoming: Incoming | null = null;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  readonly stats: SnapshotReceiveStats = { chunks: 0, bytesWritten: 0, corruptChunks: 0, corruptSnapshots: 0, installsOffered: 0 };

  constructor(private readonly deps: SnapshotReceiverDeps) {}

  onChunk(m: SnapshotChunkRequest): void {
    this.queue = this.queue.then(() => this.handle(m)).catch((err) => this.deps.fail(err));
  }

  /** Stops answering; settles once the chunk being stored is durable. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
  }

  private async handle(m: SnapshotChunkRequest): Promise<void> {
    if (this.stopped) return;
    this.stats.chunks++;
    if (m.term < this.deps.term()) return this.answer(m, 'rejected', 0);
    if (m.meta.index <= this.deps.committed()) {
      // Our log already covers it: the core answers the leader where to go on from.
      this.offer(m);
      return this.answer(m, 'done', m.size);
    }
    const key = `${m.meta.index}:${m.meta.term}:${m.size}:${m.checksum}`;
    let inc = this.incoming;
    if (!inc || inc.key !== key) {
      const writer = await this.deps.storage.createSnapshot!(m.meta, { size: m.size, checksum: m.checksum });
      inc = this.incoming = { key, writer, finished: false };
    }
    const { writer } = inc;
    if (!inc.finished) {
      if (crc32c(m.data) !== m.crc) {
        this.stats.corruptChunks++;
        return this.answer(m, 'corrupt', writer.written);
      }
      if (m.offset === writer.written && m.data.length > 0) {
        if (writer.written + m.data.length > m.size) {
          this.stats.corruptChunks++;
          return this.answer(m, 'corrupt', writer.written);
        }
        await writer.write(m.data);
        this.stats.bytesWritten += m.data.length;
      }
      if (writer.written < m.size) return this.answer(m, 'ok', writer.written);
      try {
        await writer.finish();
      } catch (err) {
        if (!isRaftError(err, ErrorCode.SnapshotCorrupt)) throw err;
        this.stats.corruptSnapshots++;
        this.incoming = null;
        return this.answer(m, 'corrupt', 0);
      }
      inc.finished = true;
    }
    this.offer(m);
    this.answer(m, 'done', m.size);
  }

  /** The whole snapshot is here and verified: the core decides (Raft §7). */
  private offer(m: SnapshotChunkRequest): void {
    this.stats.installsOffered++;
    this.deps.step({ type: 'snapshot', from: m.from, to: this.deps.self, term: m.term, meta: m.meta });
  }

  private answer(m: SnapshotChunkRequest, status: SnapshotChunkStatus, next: number): void {
    if (this.stopped) return;
    this.deps.send({ type: 'snapshotChunkResponse', from: this.deps.self, to: m.from, term: this.deps.term(), index: m.meta.index, checksum: m.checksum, next, status });
  }
}
