import type { SessionTag } from './commands.js';
import { KvErrorCode } from './errors.js';
import type { KvWriteResult } from './results.js';

/** One client session (thesis §6.3). */
export interface Session {
  /** The index of the entry that registered it. */
  readonly clientId: number;
  /** Log time of the session's latest command. */
  lastSeen: number;
  /** The client has received every result below this. Invariant: never decreases. */
  firstOutstanding: number;
  /** Results of writes not yet acknowledged. Invariant: every key is >= firstOutstanding. */
  readonly results: Map<number, KvWriteResult>;
}

/** A session as a snapshot writes it: a copy, so later applies cannot change it. */
export interface CapturedSession {
  readonly clientId: number;
  readonly lastSeen: number;
  readonly firstOutstanding: number;
  /** Cached results in ascending seq. */
  readonly results: readonly (readonly [number, KvWriteResult])[];
}

/** What to do with a tagged write. */
export type Admission =
  | { readonly kind: 'run'; readonly session: Session }
  | { readonly kind: 'replay'; readonly result: KvWriteResult }
  | { readonly kind: 'reject'; readonly code: KvErrorCode; readonly message: string };

/**
 * The session table. Everything here runs inside `apply`, from the log alone (the log clock,
 * never a local clock), so every replica keeps exactly the same table.
 */
export class SessionTable {
  /**
   * Invariant: iteration order is ascending `lastSeen`. Touching a session re-inserts it at
   * the end and the log clock never goes back, so expiry only ever looks at the front.
   */
  private readonly sessions = new Map<number, Session>();
  /** `lastSeen` of the session inserted last; the next one must not be older. */
  private tail = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxPending: number,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  get(clientId: number): Session | undefined {
    return this.sessions.get(clientId);
  }

  register(clientId: number, now: number): Session {
    const session: Session = { clientId, lastSeen: now, firstOutstanding: 1, results: new Map() };
    this.sessions.set(clientId, session);
    this.tail = now;
    return session;
  }

  close(clientId: number): boolean {
    return this.sessions.delete(clientId);
  }

  touch(session: Session, now: number): void {
    session.lastSeen = now;
    this.sessions.delete(session.clientId);
    this.sessions.set(session.clientId, session);
    this.tail = now;
  }

  /** Drops sessions idle for longer than the TTL at log time `now`. */
  expire(now: number): void {
    for (const s of this.sessions.values()) {
      if (s.lastSeen + this.ttlMs >= now) return;
      this.sessions.delete(s.clientId);
    }
  }

  /** Decides whether a write tagged `tag`, at log `index` and log time `now`, runs. */
  admit(tag: SessionTag, index: number, now: number): Admission {
    const session = this.sessions.get(tag.clientId);
    if (!session) return missing(tag.clientId, index);
    this.touch(session, now);
    acknowledge(session, tag.firstOutstanding);
    const cached = session.results.get(tag.seq);
    if (cached) return { kind: 'replay', result: cached };
    if (tag.seq < session.firstOutstanding) {
      return reject(KvErrorCode.StaleSequence, `seq ${tag.seq} of session ${tag.clientId} was already acknowledged`);
    }
    if (tag.seq >= session.firstOutstanding + this.maxPending) {
      return reject(
        KvErrorCode.TooManyPending,
        `seq ${tag.seq} of session ${tag.clientId} is ${this.maxPending} or more past the first outstanding ${session.firstOutstanding}`,
      );
    }
    return { kind: 'run', session };
  }

  /** Sessions in expiry order (what a snapshot writes). */
  inOrder(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /**
   * Copies of the sessions in expiry order (what a snapshot writes): O(sessions + cached
   * results). Results are never mutated, so copying the references suffices.
   */
  capture(): CapturedSession[] {
    return [...this.sessions.values()].map((s) => ({
      clientId: s.clientId,
      lastSeen: s.lastSeen,
      firstOutstanding: s.firstOutstanding,
      results: [...s.results].sort((a, b) => a[0] - b[0]),
    }));
  }

  /** Appends a restored session; false, changing nothing, if it breaks the expiry order. */
  append(session: Session): boolean {
    if (this.sessions.has(session.clientId) || session.lastSeen < this.tail) return false;
    this.sessions.set(session.clientId, session);
    this.tail = session.lastSeen;
    return true;
  }
}

/** The client has received every result below `firstOutstanding`: forget them (thesis §6.3). */
function acknowledge(session: Session, firstOutstanding: number): void {
  if (firstOutstanding <= session.firstOutstanding) return;
  session.firstOutstanding = firstOutstanding;
  for (const seq of session.results.keys()) if (seq < firstOutstanding) session.results.delete(seq);
}

function missing(clientId: number, index: number): Admission {
  // A session id is the index of its registration entry, so only smaller ids could ever have
  // existed. Ids of expired sessions are not remembered (that would grow forever), so any
  // smaller missing id reads as expired.
  if (clientId >= index) return reject(KvErrorCode.SessionUnknown, `session ${clientId} cannot exist at index ${index}`);
  return reject(KvErrorCode.SessionExpired, `session ${clientId} expired, was closed, or never existed`);
}

const reject = (code: KvErrorCode, message: string): Admission => ({ kind: 'reject', code, message });
