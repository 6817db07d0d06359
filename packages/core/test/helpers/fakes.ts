// Unit-test fakes for the runtime: an in-test storage, loopback network and virtual clock.
// The real adapters (log-memory, log-rocksdb, transport-memory, transport-http) run the
// runtime in their own packages' tests.
import type { Clock } from '../../src/runtime/clock.js';
import type { LogStorage, LogWrite, StateMachine, StoredState, Transport, TransportHandler } from '../../src/runtime/interfaces.js';
import { createHash } from 'node:crypto';
import type { Entry, Message, NodeId, SnapshotMeta } from '../../src/consensus/types.js';
import { ErrorCode, RaftError } from '../../src/errors.js';
import { snapshotBytes, type SnapshotExpectation, type SnapshotReader, type SnapshotStream, type SnapshotWriter } from '../../src/runtime/snapshotStore.js';
import { compactStore } from '../../src/testing/durableStore.js';
import { newStore, persist, str, type DurableStore } from './cluster.js';
import { MemorySnapshots, memoryReader, type HeldSnapshot } from './memorySnapshots.js';
import { WriteQueue } from './writeQueue.js';

/** A virtual clock: timers fire only when the test advances time. */
export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void; every: number }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn, every: 0 });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn, every: ms });
    return id;
  }
  clearInterval(h: unknown): void {
    this.timers.delete(h as number);
  }

  /** Advances time, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      const [id, timer] = due;
      this.t = timer.at;
      if (timer.every > 0) timer.at += timer.every;
      else this.timers.delete(id);
      timer.fn();
    }
    this.t = end;
    await settle();
  }

  /** Advances in steps until `cond` holds; fails after `maxMs` of virtual time. */
  async until(cond: () => boolean, maxMs = 10_000, stepMs = 10): Promise<void> {
    for (let t = 0; t <= maxMs; t += stepMs) {
      if (cond()) return;
      await this.advance(stepMs);
    }
    throw new Error(`condition not met within ${maxMs} virtual ms`);
  }
}

/** Lets pending promise callbacks and I/O callbacks run. */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Storage over a DurableStore, with an optional write delay and an injectable failure. */
export class FakeStorage implements LogStorage {
  readonly durable: DurableStore;
  saves = 0;
  failNext: Error | null = null;
  /** Writes take effect and resolve in call order, each after `delay`. */
  private readonly writes: WriteQueue;
  constructor(store: DurableStore = newStore(), delay: () => Promise<void> = settle) {
    this.durable = store;
    this.writes = new WriteQueue(delay);
  }
  private readonly snaps = new MemorySnapshots();
  async state(): Promise<StoredState> {
    return storedState(this.durable);
  }
  async entries(lo: number, hi: number): Promise<Entry[]> {
    return this.durable.entries.filter((e) => e.index >= lo && e.index < hi);
  }
  async term(index: number): Promise<number> {
    if (index === this.durable.compacted.index) return this.durable.compacted.term;
    return this.durable.entries.find((e) => e.index === index)?.term ?? 0;
  }
  save(write: LogWrite): Promise<void> {
    return this.writes.run(() => {
      if (this.failNext) {
        const err = this.failNext;
        this.failNext = null;
        throw new RaftError(ErrorCode.StorageFailed, err.message);
      }
      persist(this.durable, null, write.entries ?? [], write.hardState ?? null);
      this.saves++;
    });
  }
  installSnapshot(meta: SnapshotMeta): Promise<void> {
    return this.writes.run(() => installHeld(this.durable, this.snaps.take(meta)));
  }
  async createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter> {
    return this.snaps.create(meta, expected);
  }
  async openSnapshot(): Promise<SnapshotReader | null> {
    return heldReader(this.durable);
  }
  compact(index: number): Promise<void> {
    return this.writes.run(() => compactStore(this.durable, index));
  }
  async close(): Promise<void> {}
}

/** What a DurableStore holds, as `LogStorage.state()` reports it. */
export function storedState(d: DurableStore): StoredState {
  const first = d.compacted.index + 1;
  return { hardState: d.hardState, snapshot: d.snapshot, firstIndex: first, lastIndex: first - 1 + d.entries.length };
}

/** Installs a finished snapshot on a DurableStore (bytes and position, as LogStorage.installSnapshot). */
export function installHeld(d: DurableStore, held: HeldSnapshot): void {
  d.snapshotBytes = held.data;
  d.snapshotChecksum = held.checksum;
  persist(d, held.meta, [], null);
}

/** A reader of a DurableStore's installed snapshot, or null. */
export function heldReader(d: DurableStore): SnapshotReader | null {
  if (!d.snapshot) return null;
  const data = d.snapshotBytes ?? new Uint8Array(0);
  return memoryReader({ meta: d.snapshot, data, size: data.length, checksum: d.snapshotChecksum ?? createHash('sha256').update(data).digest('hex') });
}

/** A loopback network; `onSend` sees every message as it leaves a node. */
export class FakeNetwork {
  readonly handlers = new Map<NodeId, TransportHandler>();
  down = new Set<NodeId>();
  onSend: (m: Message) => void = () => {};
  /** May replace a message in flight (tamper with it) or drop it (null). */
  alter: (m: Message) => Message | null = (m) => m;

  transport(id: NodeId): Transport {
    return {
      id,
      start: async (h) => void this.handlers.set(id, h),
      send: (msgs) => {
        for (const m of msgs) {
          this.onSend(m);
          if (this.down.has(m.from) || this.down.has(m.to)) continue;
          const out = this.alter(m);
          if (out) setImmediate(() => this.handlers.get(m.to)?.onMessage(out));
        }
      },
      close: async () => void this.handlers.delete(id),
    };
  }
}

/** A register machine: each command appends its text; the result is the new length. */
export class LogMachine implements StateMachine<number> {
  items: string[] = [];
  apply(e: { data: Uint8Array }): number {
    this.items.push(str(e.data));
    return this.items.length;
  }
  snapshot(): Uint8Array | SnapshotStream {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  async restore(data: SnapshotStream, _meta: SnapshotMeta): Promise<void> {
    this.items = JSON.parse(str(await snapshotBytes(data))) as string[];
  }
}
