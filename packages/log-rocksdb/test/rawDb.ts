// Direct access to the database behind a RocksLogStorage, to damage it on purpose.
import { RocksLevel } from '@nxtedition/rocksdb';

export async function withRawDb<T>(dir: string, body: (db: RocksLevel) => Promise<T>): Promise<T> {
  const db = new RocksLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

/** XORs `mask` into byte `offset` of the value stored under `key`, durably. */
export async function flipByte(dir: string, key: Buffer, offset: number, mask = 0x01): Promise<void> {
  await withRawDb(dir, async (db) => {
    const value = await db.get(key);
    const damaged = Buffer.from(value);
    damaged[offset < 0 ? damaged.length + offset : offset] ^= mask;
    await db.batch([{ type: 'put', key, value: damaged }], { sync: true });
  });
}
