import { hasWrite, type RawNode, type Ready } from '../consensus/rawNode.js';
import type { Entry, Message, SnapshotMeta } from '../consensus/types.js';

/** What a simulated node's disk reports back to the simulation. */
export interface DiskHost {
  /** Puts a Ready's persistence part on the node's durable store (and checks it). */
  write(ready: Ready): void;
  send(m: Message): void;
  apply(e: Entry): void;
  /** The state machine restored from a snapshot the leader sent. */
  restore(snapshot: SnapshotMeta): void;
  /** The planted bug sent `messages` already, before the write. */
  readonly sentEarly: boolean;
}

/**
 * One node's disk in the core simulation, carrying out its Readies under the ordering rule.
 * Serial (one Ready at a time, as RaftNode once did) or pipelined (asyncStorageWrites: several
 * writes in flight, completed in order). A slow write completes at `doneAt`.
 */
export class SimDisk {
  /**
   * Readies whose write (or, for one without a write, whose messages) waits for the disk, in
   * order. Serial: at most one. A crash keeps a random prefix of them (`crash`).
   */
  writes: { ready: Ready; doneAt: number }[] = [];

  constructor(
    readonly pipelined: boolean,
    private readonly host: DiskHost,
  ) {}

  /** Completes the oldest write if it is due; false if none is. */
  completeDue(raw: RawNode, now: number): boolean {
    const head = this.writes[0];
    if (!head || head.doneAt > now) return false;
    this.writes.shift();
    if (this.pipelined) this.completeWrite(raw, head.ready);
    else this.complete(raw, head.ready);
    return true;
  }

  /** Whether the node may take its next Ready now. */
  mayTakeReady(): boolean {
    return this.pipelined || this.writes.length === 0;
  }

  /** Carries out `ready`, whose write completes at `doneAt` (now: at once). */
  handle(raw: RawNode, ready: Ready, doneAt: number, now: number): void {
    if (!this.pipelined) {
      if (doneAt > now) this.writes.push({ ready, doneAt });
      else this.complete(raw, ready);
      return;
    }
    if (ready.snapshot) {
      // A runtime installs a snapshot only after every earlier write, and before advancing.
      for (const w of this.writes.splice(0)) this.completeWrite(raw, w.ready);
      this.completeWrite(raw, ready);
      this.host.restore(ready.snapshot);
    } else if (hasWrite(ready) || ready.messages.length > 0) {
      this.writes.push({ ready, doneAt: Math.max(doneAt, this.writes[this.writes.length - 1]?.doneAt ?? 0) });
    }
    for (const e of ready.committedEntries) this.host.apply(e);
    raw.advance(ready);
  }

  /** The node crashed: of the writes in flight, the first `reached` got to the disk; no message of theirs left. */
  crash(reached: number): void {
    for (const w of this.writes.slice(0, reached)) if (hasWrite(w.ready)) this.host.write(w.ready);
    this.writes = [];
  }

  /** Pipelined: `ready`'s write reached the disk (after every earlier one). */
  private completeWrite(raw: RawNode, ready: Ready): void {
    if (hasWrite(ready)) {
      this.host.write(ready);
      raw.persisted(ready);
    }
    if (!this.host.sentEarly) for (const m of ready.messages) this.host.send(m);
  }

  /** Serial: persist, send, restore, apply, advance. */
  private complete(raw: RawNode, ready: Ready): void {
    this.host.write(ready);
    if (!this.host.sentEarly) for (const m of ready.messages) this.host.send(m);
    if (ready.snapshot) this.host.restore(ready.snapshot);
    for (const e of ready.committedEntries) this.host.apply(e);
    raw.advance(ready);
  }
}
