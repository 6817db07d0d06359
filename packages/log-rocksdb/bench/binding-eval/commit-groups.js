// Does RocksDB group concurrent rocksdb-native writes (libuv pool) into commit groups? Reads rocksdb.dbstats.
const RocksDB = require('rocksdb-native')
const fs = require('fs')
const dir = '/tmp/rocks-eval/db-groups'
fs.rmSync(dir, { recursive: true, force: true })
;(async () => {
  const db = new RocksDB(dir)
  await db.ready()
  const v = Buffer.alloc(128)
  let i = 0
  const t0 = Date.now()
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (Date.now() - t0 < 1000) { const w = db.write({ autoDestroy: true }); w.tryPut(Buffer.from(String(i++)), v); await w.flush() }
  }))
  console.log((await db.getProperty('rocksdb.dbstats')).split('\n').filter((l) => /Cumulative writes|Cumulative WAL/.test(l)).join('\n'))
  await db.close()
})()
