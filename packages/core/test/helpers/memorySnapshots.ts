import { createHash } from 'node:crypto';
import type { SnapshotMeta } from '../../src/consensus/types.js';
import { ErrorCode, RaftError } from '../../src/errors.js';
import { streamByReads, type SnapshotExpectation, type SnapshotInfo, type SnapshotReader, type SnapshotWriter } from '../../src/runtime/snapshotStore.js';

/** A finished snapshot's bytes and identity. */
export interface HeldSnapshot extends SnapshotInfo {
  readonly data: Uint8Array;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A reader over bytes held in memory. */
export function memoryReader(s: HeldSnapshot): SnapshotReader {
  return {
    meta: s.meta,
    size: s.size,
    checksum: s.checksum,
    read: async (offset, length) => s.data.slice(offset, Math.min(s.size, offset + length)),
    stream: (offset, chunkBytes) => streamByReads(async (at, length) => s.data.slice(at, Math.min(s.size, at + length)), s.size, offset, chunkBytes),
    close: async () => undefined,
  };
}

/** Snapshot writers for the test storages: bytes in memory, finished ones kept by position. */
export class MemorySnapshots {
  private readonly finished = new Map<string, HeldSnapshot>();
  /** A received snapshot being written (resumable while this object lives). */
  private partial: { key: string; chunks: Uint8Array[]; written: number } | null = null;

  create(meta: SnapshotMeta, expected?: SnapshotExpectation): SnapshotWriter {
    const key = `${meta.index}:${meta.term}:${expected?.size}:${expected?.checksum}`;
    const resumed = expected && this.partial?.key === key ? this.partial : null;
    const state = resumed ?? { key, chunks: [] as Uint8Array[], written: 0 };
    if (expected) this.partial = state;
    const finished = this.finished;
    const self = this;
    return {
      meta,
      get written() {
        return state.written;
      },
      async write(chunk) {
        state.chunks.push(chunk.slice());
        state.written += chunk.length;
      },
      async finish() {
        const data = new Uint8Array(state.written);
        let at = 0;
        for (const c of state.chunks) {
          data.set(c, at);
          at += c.length;
        }
        const held: HeldSnapshot = { meta, data, size: data.length, checksum: sha256(data) };
        if (self.partial === state) self.partial = null;
        if (expected && (expected.size !== held.size || expected.checksum !== held.checksum)) {
          throw new RaftError(ErrorCode.SnapshotCorrupt, `snapshot at ${meta.index} failed its checksum`);
        }
        finished.set(`${meta.index}:${meta.term}`, held);
        return { meta, size: held.size, checksum: held.checksum };
      },
      async abort() {
        if (self.partial === state) self.partial = null;
      },
    };
  }

  /** The finished snapshot at `meta` (installSnapshot makes it the storage's). */
  take(meta: SnapshotMeta): HeldSnapshot {
    const held = this.finished.get(`${meta.index}:${meta.term}`);
    if (!held) throw new RaftError(ErrorCode.InvalidArgument, `no finished snapshot at ${meta.index}`);
    return { ...held, meta };
  }
}
