// @nxtedition/rocksdb: main thread opens the DB and keeps it for reads; a Worker attaches to the same
// native Database through db.handle (BigInt pointer) and does the synced writes.
// Checks: the write is visible to the main thread's iterator, and how long the main thread blocks.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads')
const { RocksLevel } = require('@nxtedition/rocksdb')
const fs = require('fs')
if (isMainThread) {
  const dir = '/tmp/rocks-eval/db-shared'
  fs.rmSync(dir, { recursive: true, force: true })
  ;(async () => {
    const db = new RocksLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open({ createIfMissing: true })
    const w = new Worker(__filename, { workerData: { handle: db.handle } })
    await new Promise((r) => w.once('message', r)) // worker ready
    let n = 0; const t0 = performance.now(); const N = 2000
    let blockedMax = 0
    while (n < N) {
      const s = performance.now()
      const done = new Promise((r) => w.once('message', r))
      w.postMessage({ key: Buffer.from([1, n >> 8, n & 255]), value: Buffer.alloc(128, 1) })
      blockedMax = Math.max(blockedMax, performance.now() - s)
      await done
      n++
    }
    const el = (performance.now() - t0) / 1000
    let seen = 0
    for await (const [k] of db.iterator({ gte: Buffer.from([1]), lt: Buffer.from([2]) })) seen++
    console.log(`shared handle: ${N} synced writes from the worker, ${Math.round(N / el)}/s; main thread sees ${seen} keys; main blocked max ${blockedMax.toFixed(3)} ms`)
    w.postMessage(null)
    await new Promise((r) => w.once('exit', r))
    await db.close()
    console.log('closed ok')
  })().catch((e) => { console.error('FAIL', e); process.exit(1) })
} else {
  const db = new RocksLevel(workerData.handle, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  db.open().then(() => {
    parentPort.postMessage('ready')
    parentPort.on('message', async (m) => {
      if (m === null) { process.exit(0) } // do not close: the main thread owns the Database
      const b = db.batch()
      b.put(Buffer.from(m.key), Buffer.from(m.value))
      await b.write({ sync: true })
      parentPort.postMessage('ok')
    })
  }, (e) => { console.error('worker open failed', e); process.exit(1) })
}
