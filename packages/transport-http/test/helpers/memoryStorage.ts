import { createHash } from 'node:crypto';
import { ErrorCode, RaftError, emptyHardState, snapshotBytes } from '@raftkit/core';
import type {
  AppliedEntry,
  Entry,
  HardState,
  LogStorage,
  LogWrite,
  SnapshotExpectation,
  SnapshotMeta,
  SnapshotReader,
  SnapshotStream,
  SnapshotWriter,
  StateMachine,
  StoredState,
} from '@raftkit/core';

interface Held {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
  readonly checksum: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function reader(s: Held): SnapshotReader {
  const size = s.data.length;
  return {
    meta: s.meta,
    size,
    checksum: s.checksum,
    read: async (offset, length) => s.data.slice(offset, Math.min(size, offset + length)),
    stream: async function* (offset = 0, chunkBytes = 1 << 20): SnapshotStream {
      for (let at = offset; at < size; at += chunkBytes) yield s.data.slice(at, Math.min(size, at + chunkBytes));
    },
    close: async () => undefined,
  };
}

/**
 * An in-test LogStorage (after core's test FakeStorage): everything "durable" lives in memory,
 * snapshots included. Enough to run RaftNode over a real transport; durability is not what
 * these tests check.
 */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = emptyHardState;
  private snap: Held | null = null;
  /** Finished snapshots by `index:term`, until one is installed. */
  private readonly finished = new Map<string, Held>();
  /** The last compacted entry (index 0, term 0 when none). */
  private compacted = { index: 0, term: 0 };
  /** Invariant: consecutive indexes starting at compacted.index + 1. */
  private log: Entry[] = [];

  private get first(): number {
    return this.compacted.index + 1;
  }

  /** The first index held (1 until the log was compacted). */
  get firstIndex(): number {
    return this.first;
  }

  async state(): Promise<StoredState> {
    return { hardState: this.hardState, snapshot: this.snap?.meta ?? null, firstIndex: this.first, lastIndex: this.first + this.log.length - 1 };
  }

  async entries(lo: number, hi: number): Promise<Entry[]> {
    if (lo < this.first) throw new RaftError(ErrorCode.Compacted, `entry ${lo} is compacted`);
    return this.log.slice(lo - this.first, hi - this.first);
  }

  async term(index: number): Promise<number> {
    if (index === this.compacted.index) return this.compacted.term;
    if (this.snap && index === this.snap.meta.index) return this.snap.meta.term;
    const entry = this.log[index - this.first];
    if (!entry) throw new RaftError(ErrorCode.Unavailable, `no entry ${index}`);
    return entry.term;
  }

  async save(write: LogWrite): Promise<void> {
    const entries = write.entries ?? [];
    if (entries.length > 0) this.log = this.log.slice(0, entries[0].index - this.first).concat(entries);
    if (write.hardState) this.hardState = write.hardState;
  }

  async createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter> {
    const chunks: Uint8Array[] = [];
    let written = 0;
    return {
      meta,
      get written() {
        return written;
      },
      write: async (chunk) => {
        chunks.push(chunk.slice());
        written += chunk.length;
      },
      finish: async () => {
        const data = Buffer.concat(chunks);
        const held: Held = { meta, data, checksum: sha256(data) };
        if (expected && (expected.size !== data.length || expected.checksum !== held.checksum)) {
          throw new RaftError(ErrorCode.SnapshotCorrupt, `snapshot at ${meta.index} failed its checksum`);
        }
        this.finished.set(`${meta.index}:${meta.term}`, held);
        return { meta, size: data.length, checksum: held.checksum };
      },
      abort: async () => undefined,
    };
  }

  async installSnapshot(meta: SnapshotMeta): Promise<void> {
    const held = this.finished.get(`${meta.index}:${meta.term}`);
    if (!held) throw new RaftError(ErrorCode.InvalidArgument, `no finished snapshot at ${meta.index}`);
    this.finished.clear();
    const agrees = meta.index >= this.first && this.log[meta.index - this.first]?.term === meta.term;
    if (!agrees) {
      this.log = [];
      this.compacted = { index: meta.index, term: meta.term };
    }
    this.snap = { ...held, meta };
  }

  async openSnapshot(): Promise<SnapshotReader | null> {
    return this.snap ? reader(this.snap) : null;
  }

  async compact(index: number): Promise<void> {
    if (index < this.first) return;
    const term = await this.term(index);
    this.log = this.log.slice(index - this.first + 1);
    this.compacted = { index, term };
  }

  async close(): Promise<void> {}
}

const text = new TextDecoder();

/** Appends each command's text to a list; the result is the list's new length. */
export class ListMachine implements StateMachine<number> {
  items: string[] = [];

  apply(entry: AppliedEntry): number {
    this.items.push(text.decode(entry.data));
    return this.items.length;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }

  async restore(data: SnapshotStream, _meta: SnapshotMeta): Promise<void> {
    this.items = JSON.parse(text.decode(await snapshotBytes(data))) as string[];
  }
}
