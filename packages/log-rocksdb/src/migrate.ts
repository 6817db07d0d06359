// Opens a format-1 or -2 database as format 3: its snapshot, one RocksDB value, is copied to a
// snapshot file, then one synced batch writes the pointer to it, the log start (the old
// snapshot's index and term, where the old log started) and version 3, and deletes the old
// keys. A crash before the batch leaves the old database and an orphan file (deleted on the
// next open, which migrates again); after it, the new one.
import type { RocksBatchOp, RocksLevel } from '@nxtedition/rocksdb';
import {
  checkSnapshotData,
  decodeSnapshotMeta,
  encodeLogStart,
  encodePointer,
  encodeVersion,
  FORMAT_VERSION,
  logStartKey,
  snapshotDataKey,
  snapshotMetaKey,
  snapshotPointerKey,
  versionKey,
} from './codec.js';
import { corrupt } from './errors.js';
import type { StoredMetadata } from './reader.js';
import { SnapshotDir } from './snapshotFiles.js';
import { FileSnapshotWriter } from './snapshotWriter.js';
import { writeBatch } from './writeBatch.js';

const CHUNK = 1024 * 1024;

export async function migrate(db: RocksLevel, location: string, stored: StoredMetadata): Promise<void> {
  const ops: RocksBatchOp[] = [{ type: 'put', key: versionKey, value: encodeVersion(FORMAT_VERSION) }];
  if (stored.legacyMeta) {
    const legacy = decodeSnapshotMeta(stored.legacyMeta);
    const data = stored.legacyData;
    if (!data) throw corrupt(`the snapshot data (index ${legacy.meta.index}) is missing`);
    checkSnapshotData(data, legacy);
    const dir = await SnapshotDir.open(location, null);
    let file = '';
    const writer = await FileSnapshotWriter.create(dir, legacy.meta, null, (done) => (file = done.file));
    for (let at = 0; at < data.length; at += CHUNK) await writer.write(data.subarray(at, at + CHUNK));
    const info = await writer.finish();
    const { index, term } = legacy.meta;
    ops.push(
      { type: 'put', key: snapshotPointerKey, value: encodePointer({ meta: legacy.meta, file, size: info.size, checksum: info.checksum }) },
      { type: 'put', key: logStartKey, value: encodeLogStart({ index, term }) },
      { type: 'del', key: snapshotMetaKey },
      { type: 'del', key: snapshotDataKey },
    );
  }
  await writeBatch(db, ops, true);
}
