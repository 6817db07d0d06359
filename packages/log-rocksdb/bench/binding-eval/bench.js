'use strict'
// Usage:
//   node bench.js                         run every variant x test, each in a fresh child process, print a table
//   node bench.js run <variant> <test> [--secs S | --ops N]   one run, prints one JSON line
// Tests: seq  (one-entry batches, one caller)
//        c64  (one-entry batches, 64 concurrent callers)
//        big  (100 x 4 KiB puts per batch, one caller)
// Every run samples the main thread's event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution)
// and a setInterval(1 ms) lateness probe.
const { monitorEventLoopDelay } = require('perf_hooks')
const { execFileSync } = require('child_process')
const fs = require('fs')
const { VARIANTS } = require('./stores')

const ENTRY_VALUE = Buffer.alloc(128, 7)
const BIG_VALUE = Buffer.alloc(4096, 9)

function key(i) {
  const k = Buffer.allocUnsafe(9)
  k[0] = 1
  k.writeBigUInt64BE(BigInt(i), 1)
  return k
}

async function run(variant, test, { secs, ops }) {
  const dir = `/tmp/rocks-eval/db-${variant}-${test}-${process.pid}`
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const store = await VARIANTS[variant](dir)
  // warm-up
  for (let i = 0; i < 20; i++) await store.write([{ type: 'put', key: key(1e9 + i), value: ENTRY_VALUE }])

  const h = monitorEventLoopDelay({ resolution: 1 })
  const lags = []
  let last = performance.now()
  const probe = setInterval(() => {
    const now = performance.now()
    lags.push(now - last - 1)
    last = now
  }, 1)
  h.enable()
  const t0 = performance.now()
  const deadline = secs ? t0 + secs * 1000 : Infinity
  let batches = 0
  let entries = 0
  let idx = 0
  const lat = []
  const blocked = []
  const cpu0 = process.cpuUsage()
  const per = test === 'big' ? 100 : 1
  const value = test === 'big' ? BIG_VALUE : ENTRY_VALUE
  const callers = test === 'c64' ? 64 : 1
  const done = () => (ops ? batches >= ops : performance.now() >= deadline)
  async function caller() {
    while (!done()) {
      const batch = new Array(per)
      for (let j = 0; j < per; j++) batch[j] = { type: 'put', key: key(idx++), value }
      const s = performance.now()
      const pr = store.write(batch)
      blocked.push(performance.now() - s) // time the JS thread spent inside the write() call itself
      await pr
      lat.push(performance.now() - s)
      batches++
      entries += per
      // Yield one macrotask per write, like a server between requests (and like log-rocksdb, which
      // flushes one macrotask later). Without it a binding that resolves on process.nextTick
      // (@nxtedition/rocksdb) chains writes in microtasks and the timers never run at all.
      if (!process.env.NOYIELD) await new Promise(setImmediate)
    }
  }
  await Promise.all(Array.from({ length: callers }, caller))
  const elapsed = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0) // whole process: all threads (JS, worker, libuv pool, RocksDB background)
  h.disable()
  clearInterval(probe)
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  lags.sort((a, b) => a - b)
  lat.sort((a, b) => a - b)
  blocked.sort((a, b) => a - b)
  const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(a.length * p))] : NaN)
  const ms = (ns) => +(ns / 1e6).toFixed(2)
  return {
    variant,
    test,
    secs: +elapsed.toFixed(2),
    batches,
    batchesPerSec: Math.round(batches / elapsed),
    MBps: +((entries * value.length) / elapsed / 1e6).toFixed(1),
    latP50: +pct(lat, 0.5).toFixed(2),
    latP99: +pct(lat, 0.99).toFixed(2),
    blockedP50: +pct(blocked, 0.5).toFixed(3),
    blockedP99: +pct(blocked, 0.99).toFixed(3),
    blockedMax: +blocked[blocked.length - 1].toFixed(2),
    cpuUsPerBatch: Math.round((cpu.user + cpu.system) / batches),
    eld: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) },
    probe: { p50: +pct(lags, 0.5).toFixed(2), p99: +pct(lags, 0.99).toFixed(2), max: lags.length ? +lags[lags.length - 1].toFixed(2) : null, n: lags.length }
  }
}

async function main() {
  const [cmd, variant, test, ...rest] = process.argv.slice(2)
  const opt = { secs: 0, ops: 0 }
  for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, '')] = Number(rest[i + 1])
  if (cmd === 'run') {
    if (!opt.secs && !opt.ops) opt.secs = 5
    console.log(JSON.stringify(await run(variant, test, opt)))
    return
  }
  const secs = Number(process.env.SECS || 4)
  const variants = (process.env.VARIANTS || Object.keys(VARIANTS).join(',')).split(',')
  const tests = (process.env.TESTS || 'seq,c64,big').split(',')
  const rows = []
  for (const t of tests) {
    for (const v of variants) {
      const out = execFileSync(process.execPath, [__filename, 'run', v, t, '--secs', String(secs)], { encoding: 'utf8' })
      const r = JSON.parse(out.trim().split('\n').pop())
      rows.push(r)
      console.error(out.trim())
    }
  }
  console.log('| test | variant | batches/s | MB/s | write lat p50/p99 ms | JS thread inside write() p50/p99/max ms | CPU µs/batch (all threads) | ELD p50/p99/max ms (histogram, includes the 1 ms resolution) | 1ms-probe lateness p50/p99/max ms |')
  console.log('|---|---|---|---|---|---|---|---|---|')
  for (const r of rows) {
    console.log(`| ${r.test} | ${r.variant} | ${r.batchesPerSec} | ${r.MBps} | ${r.latP50} / ${r.latP99} | ${r.blockedP50} / ${r.blockedP99} / ${r.blockedMax} | ${r.cpuUsPerBatch} | ${r.eld.p50} / ${r.eld.p99} / ${r.eld.max} | ${r.probe.p50} / ${r.probe.p99} / ${r.probe.max} |`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
