'use strict'
// Owns an @nxtedition/rocksdb database; applies batches posted by the main thread.
// Message in: { id, ops: [type(1 put|2 del), key, value, ...] } or { close: true }.
// Message out: { ids: [...], error? } once the batch(es) holding those ids were written (fsync'd if sync).
const { parentPort, workerData } = require('worker_threads')
const { RocksLevel } = require('@nxtedition/rocksdb')

const { dir, sync, group } = workerData
const db = new RocksLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
let queue = []
let scheduled = false
let closing = false
let busy = false // one write in flight at a time

async function flush() {
  scheduled = false
  // group: everything queued; nogroup: one posted batch per write
  const items = group ? queue : queue.slice(0, 1)
  queue = group ? [] : queue.slice(1)
  if (items.length === 0) return maybeClose()
  const b = db.batch()
  const ids = new Array(items.length)
  for (let j = 0; j < items.length; j++) {
    const { id, ops, packed } = items[j]
    ids[j] = id
    if (packed) {
      const buf = Buffer.from(packed)
      for (let o = 0; o < buf.length;) {
        const type = buf[o]
        const kl = buf.readUInt32LE(o + 1)
        const vl = buf.readUInt32LE(o + 5)
        o += 9
        const k = buf.subarray(o, (o += kl))
        if (type === 1) b.put(k, buf.subarray(o, (o += vl)))
        else b.del(k)
      }
      continue
    }
    for (let i = 0; i < ops.length; i += 3) {
      // structured clone turns Buffers into Uint8Arrays; wrap without copying
      const k = Buffer.from(ops[i + 1].buffer, ops[i + 1].byteOffset, ops[i + 1].byteLength)
      if (ops[i] === 1) b.put(k, Buffer.from(ops[i + 2].buffer, ops[i + 2].byteOffset, ops[i + 2].byteLength))
      else b.del(k)
    }
  }
  let error
  busy = true
  try {
    await b.write({ sync })
  } catch (e) {
    error = String(e && e.message)
  }
  busy = false
  parentPort.postMessage(error ? { ids, error } : { ids })
  if (queue.length > 0) schedule()
  else maybeClose()
}

function schedule() {
  if (scheduled || busy) return
  scheduled = true
  // setImmediate runs after the port has delivered every message that queued up during the last write
  setImmediate(() => flush().catch((e) => { console.error(e); process.exit(1) }))
}

function maybeClose() {
  if (closing && queue.length === 0 && !scheduled && !busy) db.close().then(() => process.exit(0))
}

parentPort.on('message', (m) => {
  if (m.close) { closing = true; if (!scheduled) maybeClose(); return }
  queue.push(m)
  schedule()
})

db.open({ createIfMissing: true }).then(
  () => parentPort.postMessage({ ready: true }),
  (e) => parentPort.postMessage({ error: String(e.message) })
)
