// @ts-check
'use strict';
// The write worker: a worker_threads thread that writes (and fsyncs) the batches the main thread
// hands it, so that a synced RocksDB write, which @nxtedition/rocksdb runs synchronously on the
// calling thread, never blocks the main thread's event loop. See writeThread.ts for the client.
//
// Plain JavaScript (type-checked by tsc through checkJs) so that the very same file runs from
// src under vitest and from dist in both module formats: a worker cannot load TypeScript here.
//
// It attaches to the database the main thread opened (`db.handle`, a pointer to the native
// Database) and must never close it: the main thread owns it and closes it after this thread
// has exited. Reads stay on the main thread.
//
// In:  { id, kind: 'write', ops: ArrayBuffer (packedOps.ts layout), sync }
//      { id, kind: 'clear', gte: Uint8Array, lt: Uint8Array }   (a range delete, not synced)
// Out: { ready: true } once attached, or { startError }
//      { id, threadId, writeMs } once done (written, and fsync'd when `sync`; writeMs: how long
//      this thread took to write it, the disk's share of the request), or { id, error }
const { parentPort, workerData, threadId } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');

/** @type {{ handle: bigint, binding: string, gate: Int32Array | null }} */
const { handle, binding, gate } = workerData;
// The very module file the main thread loaded (its resolved path): `handle` is a pointer into
// that copy of the native addon, meaningless to any other copy or version.
/** @type {typeof import('@nxtedition/rocksdb')} */
const { RocksLevel } = require(binding);

const PUT = 1;
const DEL = 2;
const HEADER = 9;

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const db = new RocksLevel(handle, { keyEncoding: 'buffer', valueEncoding: 'buffer' });

/**
 * Fills a chained batch from the packed operations (views into `bytes`; the binding copies).
 * @param {import('@nxtedition/rocksdb').RocksChainedBatch} batch
 * @param {Buffer} bytes
 */
function unpackInto(batch, bytes) {
  for (let at = 0; at < bytes.length; ) {
    const type = bytes[at];
    const keyLength = bytes.readUInt32LE(at + 1);
    const valueLength = bytes.readUInt32LE(at + 5);
    at += HEADER;
    const key = bytes.subarray(at, (at += keyLength));
    if (type === PUT) batch.put(key, bytes.subarray(at, (at += valueLength)));
    else if (type === DEL) batch.del(key);
    else throw new Error(`packed batch: unknown operation type ${type} at byte ${at - HEADER - keyLength}`);
  }
}

/**
 * A chained batch, not `db.batch(ops)`: that form never closes its native batch (writeBatch.ts).
 * @param {ArrayBuffer} ops
 * @param {boolean} sync
 */
async function write(ops, sync) {
  const batch = db.batch();
  try {
    unpackInto(batch, Buffer.from(ops));
  } catch (error) {
    await batch.close();
    throw error;
  }
  // Test hook (writeThread.ts testHooks.gate): count the write, then hold it until released.
  if (gate) {
    Atomics.add(gate, 1, 1);
    Atomics.notify(gate, 1);
    Atomics.wait(gate, 0, 0);
  }
  await batch.write({ sync });
}

/** @param {unknown} error */
function describe(error) {
  const e = /** @type {{ message?: unknown, code?: unknown } | null} */ (error);
  return { message: String(e?.message ?? error), code: typeof e?.code === 'string' ? e.code : undefined };
}

/** @param {{ id: number, kind: string, ops?: ArrayBuffer, sync?: boolean, gte?: Uint8Array, lt?: Uint8Array }} msg */
async function run(msg) {
  try {
    const start = performance.now();
    if (msg.kind === 'write') await write(/** @type {ArrayBuffer} */ (msg.ops), msg.sync === true);
    else if (msg.kind === 'clear') await db.clear({ gte: Buffer.from(/** @type {Uint8Array} */ (msg.gte)), lt: Buffer.from(/** @type {Uint8Array} */ (msg.lt)) });
    else throw new Error(`unknown request ${msg.kind}`);
    port.postMessage({ id: msg.id, threadId, writeMs: performance.now() - start });
  } catch (error) {
    port.postMessage({ id: msg.id, error: describe(error) });
  }
}

// One request at a time, in arrival order (the main thread also sends one at a time).
/** @type {Promise<void>} */
let tail = Promise.resolve();
db.open().then(
  () => {
    port.on('message', (msg) => (tail = tail.then(() => run(msg))));
    port.postMessage({ ready: true });
  },
  (error) => port.postMessage({ startError: describe(error) }),
);
