'use strict'
// Store adapters with one interface: open(dir) -> { write(ops) -> Promise, close() }.
// ops: [{ type: 'put', key, value } | { type: 'del', key }], applied as one atomic batch.
const fs = require('fs')
const path = require('path')
const { Worker } = require('worker_threads')

// @nxtedition/rocksdb 12.2.12 on the main thread, chained batch written with { sync } (as log-rocksdb does).
async function openNx(dir, { sync = true } = {}) {
  const { RocksLevel } = require('@nxtedition/rocksdb')
  const db = new RocksLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open({ createIfMissing: true })
  return {
    async write(ops) {
      const b = db.batch()
      for (const op of ops) op.type === 'put' ? b.put(op.key, op.value) : b.del(op.key)
      await b.write({ sync })
    },
    close: () => db.close()
  }
}

// rocksdb-native 3.18.x: write batch runs on the libuv pool. No write option exists (WriteOptions{} => sync=false).
// walSync: after each write, fdatasync the current WAL file ourselves from the libuv pool (a hack, see report).
async function openRn(dir, { walSync = false } = {}) {
  const RocksDB = require('rocksdb-native')
  const db = new RocksDB(dir, {
    walRecoveryMode: RocksDB.constants.walRecoveryMode.TOLERATE_CORRUPTED_TAIL_RECORDS
  })
  await db.ready()
  let wal = null // { number, fh }
  let syncing = null // one datasync in flight; later callers chain onto the next one (group the fsync)
  let pending = null
  async function syncWal() {
    const cur = await db.currentWalFile()
    if (!wal || wal.number !== cur.number) {
      if (wal) await wal.fh.close()
      wal = { number: cur.number, fh: await fs.promises.open(path.join(dir, cur.path), 'r') }
    }
    await wal.fh.datasync()
  }
  // Group: a write that completes while a datasync is running waits for the next datasync, which
  // covers every write completed before it starts.
  function groupSync() {
    if (!syncing) {
      syncing = syncWal().finally(() => {
        syncing = null
        if (pending) { const p = pending; pending = null; p.run() }
      })
      return syncing
    }
    if (!pending) {
      let run
      const promise = new Promise((resolve, reject) => { run = () => groupSync().then(resolve, reject) })
      pending = { promise, run }
    }
    return pending.promise
  }
  return {
    async write(ops) {
      const w = db.write({ autoDestroy: true, capacity: Math.max(8, ops.length) })
      for (const op of ops) op.type === 'put' ? w.tryPut(op.key, op.value) : w.tryDelete(op.key)
      await w.flush()
      if (walSync) await groupSync()
    },
    async close() {
      if (wal) await wal.fh.close()
      await db.close()
    }
  }
}

// @nxtedition/rocksdb owned by a worker_threads Worker; the main thread posts batches.
// group: the worker merges every batch that arrived while it was busy into one synced write.
async function openNxWorker(dir, { sync = true, group = true, transfer = false } = {}) {
  const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: { dir, sync, group } })
  await new Promise((resolve, reject) => {
    worker.once('message', (m) => (m.ready ? resolve() : reject(new Error(m.error))))
    worker.once('error', reject)
  })
  let nextId = 1
  const waiting = new Map()
  worker.on('message', (m) => {
    for (const id of m.ids) {
      const w = waiting.get(id)
      waiting.delete(id)
      m.error ? w.reject(new Error(m.error)) : w.resolve()
    }
  })
  return {
    write(ops) {
      const id = nextId++
      if (transfer) {
        // pack into one ArrayBuffer: [type u8][klen u32][vlen u32][key][value]..., transferred (not copied)
        let size = 0
        for (const op of ops) size += 9 + op.key.length + (op.value ? op.value.length : 0)
        const buf = Buffer.from(new ArrayBuffer(size))
        let o = 0
        for (const op of ops) {
          const vl = op.value ? op.value.length : 0
          buf[o] = op.type === 'put' ? 1 : 2
          buf.writeUInt32LE(op.key.length, o + 1)
          buf.writeUInt32LE(vl, o + 5)
          o += 9
          o += op.key.copy(buf, o)
          if (vl) o += op.value.copy(buf, o)
        }
        return new Promise((resolve, reject) => {
          waiting.set(id, { resolve, reject })
          worker.postMessage({ id, packed: buf.buffer }, [buf.buffer])
        })
      }
      const flat = new Array(ops.length * 3)
      for (let i = 0; i < ops.length; i++) {
        flat[i * 3] = ops[i].type === 'put' ? 1 : 2
        flat[i * 3 + 1] = ops[i].key
        flat[i * 3 + 2] = ops[i].value ?? null
      }
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        worker.postMessage({ id, ops: flat }) // buffers are copied (structured clone)
      })
    },
    async close() {
      worker.postMessage({ close: true })
      await new Promise((resolve) => worker.once('exit', resolve))
    }
  }
}

const VARIANTS = {
  'nx-sync': (dir) => openNx(dir, { sync: true }),
  'nx-nosync': (dir) => openNx(dir, { sync: false }),
  'rn': (dir) => openRn(dir),
  'rn+walsync': (dir) => openRn(dir, { walSync: true }),
  'nxw-sync': (dir) => openNxWorker(dir, { sync: true, group: true }),
  'nxw-sync-xfer': (dir) => openNxWorker(dir, { sync: true, group: true, transfer: true }),
  'nxw-sync-nogroup': (dir) => openNxWorker(dir, { sync: true, group: false })
}

module.exports = { VARIANTS }
