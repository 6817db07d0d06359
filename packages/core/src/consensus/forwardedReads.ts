/**
 * A follower's linearizable reads, forwarded to the leader in batches (thesis §6.4): reads
 * that arrive while a forward is in flight wait, and the next forward carries them all. A
 * batch may only answer reads that arrived before it was sent: the leader takes its read index
 * when the forward arrives, which must be after each read it answers began.
 *
 * A forward whose answer is lost would hold the queue forever, so after `retryTicks` ticks
 * without an answer the next batch goes anyway (the old one may still be answered).
 */
export class ForwardedReads {
  private ticks = 0;
  private seq = 0;
  private queued: string[] = [];
  /** Forwards sent and not yet answered: batch id → the reads it carries and when it left. */
  private readonly inFlight = new Map<string, { readonly reads: readonly string[]; readonly sentAt: number }>();

  /**
   * @param prefix makes batch ids unique to this node and incarnation, so an answer meant for
   * a batch of an earlier run of this node can never be taken for one of this run.
   */
  constructor(private readonly prefix: () => string) {}

  tick(): void {
    this.ticks++;
  }

  queue(requestId: string): void {
    this.queued.push(requestId);
  }

  /** The batch to forward now, or null (nothing waits, or a recent forward is still in flight). */
  take(retryTicks: number): string | null {
    if (this.queued.length === 0) return null;
    for (const f of this.inFlight.values()) if (this.ticks - f.sentAt < retryTicks) return null;
    const id = `${this.prefix()}#${++this.seq}`;
    this.inFlight.set(id, { reads: this.queued, sentAt: this.ticks });
    this.queued = [];
    return id;
  }

  /** The reads the leader's answer to batch `id` confirms (none for an unknown or old batch). */
  answered(id: string): readonly string[] {
    const f = this.inFlight.get(id);
    if (!f) return [];
    this.inFlight.delete(id);
    return f.reads;
  }

  /** Forgets every read (leader or term changed); returns them so they can be failed. */
  clear(): string[] {
    const all = [...[...this.inFlight.values()].flatMap((f) => f.reads), ...this.queued];
    this.inFlight.clear();
    this.queued = [];
    return all;
  }
}
