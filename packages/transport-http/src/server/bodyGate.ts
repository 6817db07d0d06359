/**
 * Bounds how many large peer bodies are received at once. A body's signature can only be
 * checked once all of it has arrived, so until then it costs memory; without a bound, 40
 * concurrent 60 MiB bodies with a bad signature held 2.3 GB. A legitimate peer has at most one
 * request in flight to this node, so a small cap costs a healthy cluster nothing.
 *
 * Bodies up to SMALL_BODY_BYTES (votes, heartbeats, small appends) pass without a slot: they are
 * cheap, and keeping them flowing keeps elections and leases working while the slots are taken.
 * Snapshot bodies may be far larger than the rest, and only a leader sends them, so at most one
 * is received at a time.
 */
export const SMALL_BODY_BYTES = 64 * 1024;
const MAX_CONCURRENT_SNAPSHOTS = 1;

export class BodyGate {
  /** Invariant: 0 <= large <= maxConcurrent, 0 <= snapshots <= large. */
  private large = 0;
  private snapshots = 0;

  constructor(private readonly maxConcurrent: number) {}

  /** A slot for a body of `bytes`, released by calling the result once; null when full. */
  enter(bytes: number, snapshot: boolean): (() => void) | null {
    if (bytes <= SMALL_BODY_BYTES && !snapshot) return () => {};
    if (this.large >= this.maxConcurrent) return null;
    if (snapshot && this.snapshots >= MAX_CONCURRENT_SNAPSHOTS) return null;
    this.large += 1;
    if (snapshot) this.snapshots += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.large -= 1;
      if (snapshot) this.snapshots -= 1;
    };
  }

  get active(): number {
    return this.large;
  }
}
