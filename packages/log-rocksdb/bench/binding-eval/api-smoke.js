// API smoke test for rocksdb-native: batch put+del atomically, get, prefix range, deleteRange, snapshot, close, options.
const RocksDB = require('rocksdb-native')
const fs = require('fs')
const dir = '/tmp/rocks-eval/db-smoke'
fs.rmSync(dir, { recursive: true, force: true })
;(async () => {
  const db = new RocksDB(dir, { walRecoveryMode: RocksDB.constants.walRecoveryMode.TOLERATE_CORRUPTED_TAIL_RECORDS, maxOpenFiles: 256 })
  await db.ready()
  const w = db.write()
  for (let i = 0; i < 10; i++) w.put(Buffer.from([1, 0, 0, i]), Buffer.from('v' + i))
  w.put(Buffer.from([0, 2]), Buffer.from('hs'))
  w.delete(Buffer.from([1, 0, 0, 9]))
  await w.flush()
  w.destroy() // a batch from db.write() holds a ref on the db until destroyed: without this close() never resolves
  console.log('get 0,2 =', String(await db.get(Buffer.from([0, 2]))), ' get deleted =', await db.get(Buffer.from([1, 0, 0, 9])))
  const snap = db.snapshot()
  await db.deleteRange(Buffer.from([1, 0, 0, 0]), Buffer.from([1, 0, 0, 5]))
  const keys = []
  for await (const { key } of db.iterator({ gte: Buffer.from([1]), lt: Buffer.from([2]) })) keys.push(key[3])
  const skeys = []
  for await (const { key } of snap.iterator({ gte: Buffer.from([1]), lt: Buffer.from([2]) })) skeys.push(key[3])
  console.log('prefix 01 after deleteRange [0,5):', keys.join(','), ' via snapshot taken before:', skeys.join(','))
  const rev = await db.peek({ gte: Buffer.from([1]), lt: Buffer.from([2]), reverse: true })
  console.log('last key via peek reverse:', rev.key)
  await snap.close()
  console.log('wal:', await db.currentWalFile())
  await db.close()
  const log = fs.readFileSync(dir + '/LOG', 'utf8')
  console.log(log.match(/RocksDB version: .*/)[0])
  for (const k of ['paranoid_checks', 'wal_recovery_mode', 'max_open_files', 'track_and_verify_wals_in_manifest', 'manual_wal_flush', 'bytes_per_sync', 'wal_bytes_per_sync', 'use_fsync']) {
    const m = log.match(new RegExp('Options\\.' + k + ': *(.*)')); console.log('  ', k, '=', m && m[1])
  }
})().catch((e) => { console.error(e); process.exit(1) })
