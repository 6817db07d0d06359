// Baseline: event-loop lateness of an idle process on this (shared) machine, 4 s.
const { monitorEventLoopDelay } = require('perf_hooks')
const h = monitorEventLoopDelay({ resolution: 1 }); h.enable()
const lags = []; let last = performance.now()
const t = setInterval(() => { const n = performance.now(); lags.push(n - last - 1); last = n }, 1)
setTimeout(() => { clearInterval(t); h.disable(); lags.sort((a, b) => a - b)
  const p = (q) => lags[Math.floor(lags.length * q)].toFixed(2)
  console.log(`idle: histogram p50/p99/max ${(h.percentile(50)/1e6).toFixed(2)}/${(h.percentile(99)/1e6).toFixed(2)}/${(h.max/1e6).toFixed(2)} ms; probe lateness p50/p99/max ${p(0.5)}/${p(0.99)}/${lags[lags.length-1].toFixed(2)} ms`) }, 4000)
