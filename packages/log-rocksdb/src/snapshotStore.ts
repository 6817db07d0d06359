// The snapshots of one RocksLogStorage that are not (yet) installed: creating, resuming and
// finding them, and deleting the ones an install makes obsolete.
import type { SnapshotExpectation, SnapshotMeta } from '@raftkit/core';
import { checkSnapshotExpectation, checkSnapshotMeta } from '@raftkit/core';
import { freezeMeta } from './codec.js';
import { invalid } from './errors.js';
import type { SnapshotDir } from './snapshotFiles.js';
import { FileSnapshotWriter, type FinishedSnapshot } from './snapshotWriter.js';

export function checkMeta(meta: SnapshotMeta): SnapshotMeta {
  checkSnapshotMeta(meta);
  return freezeMeta(meta);
}

export function checkExpectation(expected: SnapshotExpectation): SnapshotExpectation {
  checkSnapshotExpectation(expected);
  return { size: expected.size, checksum: expected.checksum };
}

export class SnapshotStore {
  /** Finished snapshots not installed, by file name. */
  private readonly finished = new Map<string, FinishedSnapshot>();
  private readonly remember = (done: FinishedSnapshot): void => void this.finished.set(done.file, done);

  constructor(readonly dir: SnapshotDir) {}

  /** See LogStorage.createSnapshot. */
  async create(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<FileSnapshotWriter> {
    if (!expected) return FileSnapshotWriter.create(this.dir, meta, null, this.remember);
    const e = expected;
    const received = (await this.dir.names()).filter((n) => n.kind === 'recv');
    const same = received.find(
      (n) => n.index === meta.index && n.term === meta.term && n.expected?.size === e.size && n.expected.checksum === e.checksum,
    );
    if (same?.finished) {
      const done = { file: same.name, info: Object.freeze({ meta, size: e.size, checksum: e.checksum }) };
      this.finished.set(same.name, done);
      return FileSnapshotWriter.finished(this.dir, done, this.remember);
    }
    if (same) {
      const writer = await FileSnapshotWriter.resume(this.dir, meta, e, same.name, this.remember);
      if (writer.written <= e.size) return writer;
      await writer.abort();
    }
    await this.dir.remove(received.filter((n) => !n.finished && n.name !== same?.name).map((n) => n.name));
    return FileSnapshotWriter.create(this.dir, meta, e, this.remember);
  }

  /**
   * The finished snapshot to install for `meta`: the latest one finished since open, else a
   * received one finished before a restart (its name holds its size and checksum).
   */
  async find(meta: SnapshotMeta): Promise<FinishedSnapshot> {
    let found: FinishedSnapshot | undefined;
    for (const done of this.finished.values()) {
      if (done.info.meta.index === meta.index && done.info.meta.term === meta.term) found = done;
    }
    if (found) return found;
    const received = (await this.dir.names()).find((n) => n.kind === 'recv' && n.finished && n.index === meta.index && n.term === meta.term);
    if (received?.expected) return { file: received.name, info: Object.freeze({ meta, ...received.expected }) };
    throw invalid(`no finished snapshot at index ${meta.index}, term ${meta.term} to install`);
  }

  /** After an install is durable: deletes the replaced file and every other one at or below `index`. */
  async installed(index: number, file: string, replaced: string | null): Promise<void> {
    for (const [name, done] of this.finished) if (done.info.meta.index <= index) this.finished.delete(name);
    const stale = (await this.dir.names()).filter((n) => n.index <= index && n.name !== file).map((n) => n.name);
    if (replaced && replaced !== file && !stale.includes(replaced)) stale.push(replaced);
    await this.dir.remove(stale);
  }
}
