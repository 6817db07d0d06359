// The main thread's side of the write worker (writeWorker.cjs): hands it one packed batch at a
// time and resolves once the batch is written (fsync'd when asked). Fail-stop: if the worker
// errors or exits unexpectedly, every pending and later request rejects with
// RAFT_STORAGE_FAILED naming the cause, and nothing is reported written that was not.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { RocksBatchOp, RocksLevel } from '@nxtedition/rocksdb';
import type { RaftError } from '@raftkit/core';
import { failed } from './errors.js';
import { packOps } from './packedOps.js';

/** For tests only: hold every write at a gate, or start the worker from another file. */
export const testHooks: {
  /** [0]: 0 holds each write before it is written, 1 lets it pass; [1]: writes that reached the gate. */
  gate: Int32Array | null;
  workerFile: URL | null;
} = { gate: null, workerFile: null };

type Reply = { readonly id: number; readonly threadId?: number; readonly writeMs?: number; readonly error?: { message: string; code?: string } };
type StartReply = { readonly ready?: true; readonly startError?: { message: string; code?: string } };

/**
 * How long one request took, from this thread's hand-off to its reply being seen here; for a
 * synced batch, what `onSyncedWrite` reports (RocksLogStorageOptions).
 */
export interface SyncedWriteTiming {
  /** The worker's write and fsync, in milliseconds: the disk's share. */
  readonly writeMs: number;
  /** The rest of the request, in milliseconds: the hand-off to the worker and back. */
  readonly handOffMs: number;
}

interface Pending {
  readonly postedAt: number;
  resolve(timing: SyncedWriteTiming): void;
  reject(error: unknown): void;
}

/**
 * The file sits beside this module in src (vitest) and in dist (beside index.js and index.cjs;
 * tsup's shims give the CJS build an import.meta.url).
 */
function workerFile(): URL {
  return testHooks.workerFile ?? new URL('./writeWorker.cjs', import.meta.url);
}

export class WriteThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: RaftError | null = null;
  private stopping: Promise<void> | null = null;
  private readonly exited: Promise<void>;
  /** Called once, when the worker fails (not when it is stopped). */
  onFailure: (error: RaftError) => void = () => undefined;
  /** The thread that made the last write, as it reported itself (a test checks it is not the main thread). */
  lastWriterThreadId = -1;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('messageerror', (error) => this.die(failed('write worker sent an unreadable reply', error)));
    worker.on('error', (error) => this.die(failed('write worker failed', error)));
    worker.on('exit', (code) => {
      if (!this.stopping) this.die(failed(`write worker exited unexpectedly (exit code ${code})`));
    });
    // An idle storage must not keep the process alive; one with a write in flight must.
    worker.unref();
  }

  /**
   * Starts a worker attached to `db` (open). Rejects with RAFT_STORAGE_FAILED if it cannot
   * start; it is then stopped, so `db` can be closed.
   */
  static async start(db: RocksLevel): Promise<WriteThread> {
    let worker: Worker;
    try {
      // The worker loads the binding this module loaded, by path: the handle is only valid there.
      const binding = createRequire(import.meta.url).resolve('@nxtedition/rocksdb');
      worker = new Worker(workerFile(), { workerData: { handle: db.handle, binding, gate: testHooks.gate } });
    } catch (error) {
      throw failed('could not start its write worker', error);
    }
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', (m: StartReply) => (m.ready ? resolve() : reject(new Error(m.startError?.message ?? 'no ready message'))));
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`it exited with code ${code} before it was ready`)));
      });
    } catch (error) {
      await worker.terminate();
      throw failed('could not start its write worker', error);
    }
    return new WriteThread(worker);
  }

  /** Writes `ops` as one atomic batch, fsync'd if `sync`, on the worker; resolves with its timing. */
  write(ops: readonly RocksBatchOp[], sync: boolean): Promise<SyncedWriteTiming> {
    const packed = packOps(ops);
    return this.request({ kind: 'write', ops: packed, sync }, [packed]);
  }

  /** Range-deletes keys in [gte, lt) (unsynced), on the worker: it may stall on RocksDB's write path. */
  async clear(gte: Buffer, lt: Buffer): Promise<void> {
    await this.request({ kind: 'clear', gte, lt }, []);
  }

  /** Stops the worker (never closing the shared database) and waits until it has exited. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.worker.terminate();
      await this.exited;
      this.rejectPending(failed('write worker was stopped'));
    })();
    return this.stopping;
  }

  /** For tests: the worker, e.g. to terminate it as a crash would. */
  get workerForTest(): Worker {
    return this.worker;
  }

  private request(message: object, transfer: ArrayBuffer[]): Promise<SyncedWriteTiming> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopping) return Promise.reject(failed('write worker was stopped'));
    const id = this.nextId++;
    return new Promise<SyncedWriteTiming>((resolve, reject) => {
      this.pending.set(id, { postedAt: performance.now(), resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ id, ...message }, transfer);
    });
  }

  private settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return this.die(failed(`write worker replied to unknown request ${reply.id}`));
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error) {
      pending.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      return;
    }
    this.lastWriterThreadId = reply.threadId ?? -1;
    const totalMs = performance.now() - pending.postedAt;
    // Clocks of two threads: never report more disk time than the request took.
    const writeMs = Math.min(totalMs, reply.writeMs ?? 0);
    pending.resolve({ writeMs, handOffMs: totalMs - writeMs });
  }

  private die(error: RaftError): void {
    if (this.failure) return;
    this.failure = error;
    this.rejectPending(error);
    this.worker.unref();
    this.onFailure(error);
  }

  private rejectPending(error: RaftError): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
