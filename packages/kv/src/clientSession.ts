import type { SessionTag } from './commands.js';

/**
 * The client half of a session (thesis §6.3): hands out sequence numbers and tracks which
 * writes are still waiting for their result, so each command can tell the state machine
 * which cached results it may discard. Share one KvSession between KvClients (e.g. one per
 * node) to keep one exactly-once namespace.
 */
export class KvSession {
  private nextSeq = 1;
  /** Seqs handed out whose call has not finished. */
  private readonly outstanding = new Set<number>();

  /** `clientId`: the index of the entry that registered the session. */
  constructor(readonly clientId: number) {}

  /** Starts a write: its seq stays outstanding until `finish(seq)`. */
  begin(): number {
    const seq = this.nextSeq++;
    this.outstanding.add(seq);
    return seq;
  }

  /**
   * The write's call is over, answered or abandoned. Either way its result will not be asked
   * for again, and once a later command says so, the state machine refuses to run it at all.
   */
  finish(seq: number): void {
    this.outstanding.delete(seq);
  }

  /** The lowest seq whose result the client still waits for (the next seq if none). */
  get firstOutstanding(): number {
    let min = this.nextSeq;
    for (const seq of this.outstanding) if (seq < min) min = seq;
    return min;
  }

  /** The tag to send with write `seq`; computed per attempt, as acknowledgements move on. */
  tag(seq: number): SessionTag {
    return { clientId: this.clientId, seq, firstOutstanding: Math.min(seq, this.firstOutstanding) };
  }
}
