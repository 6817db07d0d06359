import type { RocksBatchOp, RocksLevel } from '@nxtedition/rocksdb';

/**
 * Writes `ops` as one atomic batch, fsync'd if `sync`.
 *
 * Not `db.batch(ops)`: in @nxtedition/rocksdb 12 that form builds a chained batch and writes it
 * without ever closing it, so abstract-level keeps the batch attached to the database (its
 * resource set, emptied only by `close()`), and with it the native WriteBatch holding a copy of
 * every byte written. A server leaked 4-5 KB of RSS per client write that way, invisible to the
 * V8 heap and external-memory figures. A chained batch detaches itself once written, and its
 * WriteBatch is freed when the JS object is collected.
 */
export async function writeBatch(db: RocksLevel, ops: readonly RocksBatchOp[], sync: boolean): Promise<void> {
  const batch = db.batch();
  try {
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
  } catch (error) {
    await batch.close();
    throw error;
  }
  await batch.write({ sync });
}
