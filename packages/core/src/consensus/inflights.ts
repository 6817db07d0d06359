import { invariant } from '../errors.js';

/**
 * The AppendEntries messages in flight to one follower, by the last index each carried.
 * A bounded FIFO: the leader stops sending when it is full (flow control, like etcd's
 * tracker/inflights.go), and frees slots as acknowledgements arrive.
 *
 * Invariant: indexes are strictly increasing; count <= capacity.
 */
export class Inflights {
  private readonly buf: number[] = [];

  constructor(readonly capacity: number) {
    invariant(capacity >= 1, 'inflight capacity must be at least 1');
  }

  get count(): number {
    return this.buf.length;
  }

  full(): boolean {
    return this.buf.length >= this.capacity;
  }

  add(lastIndex: number): void {
    invariant(!this.full(), 'inflights overflow');
    const last = this.buf[this.buf.length - 1];
    invariant(last === undefined || lastIndex > last, `inflight ${lastIndex} not after ${last}`);
    this.buf.push(lastIndex);
  }

  /** Frees every message whose last index is <= `index` (acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.buf.length && this.buf[n]! <= index) n++;
    if (n > 0) this.buf.splice(0, n);
  }

  /** Frees the oldest message (a heartbeat response proves the link works again). */
  freeFirst(): void {
    this.buf.shift();
  }

  reset(): void {
    this.buf.length = 0;
  }
}
