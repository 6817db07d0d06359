// Helpers for paper tests that drive one pure core message by message: build a node from a
// durable state, hand it a message or a tick, and look at the Ready it answers with.
import { RawNode, type RaftConfig, type Ready } from '../../src/consensus/index.js';
import { EntryType, type AppendResponse, type Entry, type HardState, type Message, type NodeId, type VoteResponse } from '../../src/consensus/types.js';
import { bytes, newStore, persist, type DurableStore } from './cluster.js';

export const entry = (index: number, term: number, data = `${index}@${term}`): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: bytes(data),
});

/** Entries `from..to` (inclusive), all of `term`. */
export const run = (from: number, to: number, term: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));

/** Entries 1..n with the given terms, e.g. `log(1, 2, 2)` is [1@1, 2@2, 3@2]. */
export const log = (...terms: number[]): Entry[] => terms.map((t, i) => entry(i + 1, t));

export const stored = (hardState: Partial<HardState>, entries: Entry[] = []): DurableStore => ({
  ...newStore(),
  hardState: { term: 0, vote: null, commit: 0, ...hardState },
  entries,
});

/**
 * A single core restarted from `store`, with a timeout of exactly `electionTicks` (random 0),
 * so tests can count ticks. Unless overridden it runs the plain protocol of Figure 2: no
 * pre-vote and no check-quorum (whose restart guard would make a restarted node refuse votes).
 */
export class PaperNode {
  readonly raw: RawNode;
  readonly store: DurableStore;
  /** Every Ready this node produced, in order. */
  readonly readies: Ready[] = [];

  constructor(
    readonly id: NodeId,
    readonly voters: readonly NodeId[],
    store: DurableStore = newStore(),
    overrides: Partial<RaftConfig> = {},
  ) {
    this.store = { ...store, entries: [...store.entries] };
    const config: RaftConfig = { id, voters, electionTicks: 10, heartbeatTicks: 1, random: () => 0, preVote: false, checkQuorum: false, ...overrides };
    this.raw = new RawNode(config, { hardState: store.hardState, entries: store.entries, snapshot: store.snapshot });
  }

  /** Carries out every pending Ready (persist, collect) and returns them merged. */
  flush(): Ready[] {
    const out: Ready[] = [];
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      persist(this.store, rd.snapshot, rd.entries, rd.hardState);
      this.raw.advance(rd);
      out.push(rd);
      this.readies.push(rd);
    }
    return out;
  }

  /** Delivers `m` and returns the messages this node answered with. */
  step(m: Message): Message[] {
    this.raw.step(m);
    return this.flush().flatMap((rd) => rd.messages);
  }

  /** Delivers `m` and returns the single Ready it caused (fails if it caused several or none). */
  stepReady(m: Message): Ready {
    this.raw.step(m);
    const rds = this.flush();
    if (rds.length !== 1) throw new Error(`expected one Ready after ${m.type}, got ${rds.length}`);
    return rds[0]!;
  }

  tick(times = 1): Message[] {
    const out: Message[] = [];
    for (let i = 0; i < times; i++) {
      this.raw.tick();
      for (const rd of this.flush()) out.push(...rd.messages);
    }
    return out;
  }

  /** The in-memory log as `index@term` strings (from the first index after the snapshot). */
  logIds(): string[] {
    const s = this.raw.status();
    return this.raw.entries(s.snapshotIndex + 1, s.lastIndex + 1).map((e) => `${e.index}@${e.term}`);
  }

  /** The durable log as `index@term` strings. */
  storedIds(): string[] {
    return this.store.entries.map((e) => `${e.index}@${e.term}`);
  }
}

type Fields<T extends Message['type']> = Omit<Extract<Message, { type: T }>, 'type'>;

/** An AppendEntries request; `commit` defaults to 0. */
export const append = (f: Omit<Fields<'append'>, 'commit'> & { commit?: number }): Message => ({ type: 'append', commit: 0, ...f });

/** A RequestVote (not a pre-vote unless asked). */
export const vote = (f: Omit<Fields<'vote'>, 'preVote'> & { preVote?: boolean }): Message => ({ type: 'vote', preVote: false, ...f });

export const appendOk = (from: NodeId, to: NodeId, term: number, index: number): AppendResponse => ({
  type: 'appendResponse',
  from,
  to,
  term,
  success: true,
  index,
  conflictTerm: 0,
  conflictIndex: 0,
});

export const voteGranted = (from: NodeId, to: NodeId, term: number, granted = true): VoteResponse => ({
  type: 'voteResponse',
  from,
  to,
  term,
  preVote: false,
  granted,
});

/** Messages of one type, narrowed. */
export function ofType<T extends Message['type']>(msgs: readonly Message[], type: T): Extract<Message, { type: T }>[] {
  return msgs.filter((m): m is Extract<Message, { type: T }> => m.type === type);
}
