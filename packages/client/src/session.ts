/**
 * Exactly-once writes (Raft thesis §6.3) done for the caller: one session per client, opened
 * on the first write; every write takes the next seq and keeps it for all its retries, so the
 * server applies it once and answers every retry with the first result.
 */

/** One registered session. Invariant: every seq in `pending` is < nextSeq. */
interface SessionState {
  readonly clientId: number;
  nextSeq: number;
  /** Seqs whose answer the client still waits for. */
  readonly pending: Set<number>;
}

export interface WriteTag {
  readonly clientId: number;
  readonly seq: number;
  /** The session it belongs to (a tag of a replaced session is never sent again). */
  readonly state: object;
}

export class SessionTracker {
  private state: SessionState | null = null;
  private opening: Promise<SessionState> | null = null;

  constructor(private readonly open: () => Promise<number>) {}

  /** The session's id, if one is open. */
  get clientId(): number | null {
    return this.state?.clientId ?? null;
  }

  /**
   * Opens the session if needed and gives the write its seq. `wait` bounds the wait for a
   * shared opening by the caller's own signal and deadline; the seq is taken only once the
   * session is there, so a caller that gave up leaves no seq pending.
   */
  async tag(wait: <T>(p: Promise<T>) => Promise<T> = (p) => p): Promise<WriteTag> {
    for (;;) {
      const st = this.state ?? (await wait(this.ensure()));
      if (this.state !== st) continue; // expired meanwhile: open the next one
      const seq = st.nextSeq++;
      st.pending.add(seq);
      return { clientId: st.clientId, seq, state: st };
    }
  }

  /**
   * The headers of one attempt: the first outstanding seq is the lowest still pending, so the
   * server may forget the results below it, and never one a retry may still need.
   */
  headers(tag: WriteTag): Record<string, string> {
    const st = tag.state as SessionState;
    let first = tag.seq;
    for (const s of st.pending) if (s < first) first = s;
    return { 'x-raftkit-client-id': String(tag.clientId), 'x-raftkit-seq': String(tag.seq), 'x-raftkit-first-outstanding': String(first) };
  }

  /** The write got its answer (or was given up): its seq is no longer outstanding. */
  done(tag: WriteTag): void {
    (tag.state as SessionState).pending.delete(tag.seq);
  }

  /** The server no longer knows the session of `tag`: the next write opens a new one. */
  expired(tag: WriteTag): void {
    if (this.state === tag.state) this.state = null;
  }

  private ensure(): Promise<SessionState> {
    this.opening ??= this.open()
      .then((clientId) => {
        this.state = { clientId, nextSeq: 1, pending: new Set() };
        return this.state;
      })
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }
}
