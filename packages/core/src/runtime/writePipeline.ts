import { hasWrite, type Ready } from '../consensus/rawNode.js';
import type { HardState, Message } from '../consensus/types.js';
import type { Clock } from './clock.js';
import type { LogStorage } from './interfaces.js';

export interface WritePipelineDeps {
  readonly storage: LogStorage;
  readonly clock: Clock;
  /**
   * `ready`'s write is durable, and every earlier one: tell the core (`RawNode.persisted`).
   * `wrote`: false for a commit-only Ready whose hard state was deferred (nothing was written).
   */
  persisted(ready: Ready, ms: number, wrote: boolean): void;
  /** Sends messages that had to wait for the write (Ready ordering rule 2). */
  send(messages: readonly Message[]): void;
  /** A write failed: the node must stop (fail-stop; nothing after it is reported durable). */
  fail(error: unknown): void;
}

const noop = (): void => undefined;

/**
 * Pipelined persistence (etcd's asynchronous storage writes): each Ready's write is handed to
 * storage at once, in Ready order, and the drive loop goes on stepping messages and proposals
 * while it is in flight. Completions are reported in the same order; only then do the Ready's
 * `messages` (acknowledgements, votes) leave.
 */
export class WritePipeline {
  /** Settles after the completion of everything submitted so far has been handled. */
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /**
   * A hard state that changed only its commit index, not yet written: it rides with the next
   * write (or `flushCommit`). The commit index is volatile in Raft (Figure 2): a node that
   * restarts with an older one learns it again from the leader, so writing each new one on its
   * own would cost a storage write per commit for nothing.
   */
  private deferred: HardState | null = null;

  constructor(private readonly deps: WritePipelineDeps) {}

  /**
   * Hands `ready`'s entries and hard state to storage now; once that write (and every earlier
   * one) is durable, reports it and sends `ready.messages`. A Ready with a snapshot is not
   * for the pipeline: the runtime installs it itself once `settled()`.
   */
  submit(ready: Ready): void {
    const { storage, clock } = this.deps;
    const commitOnly = ready.entries.length === 0 && ready.snapshot === null && ready.hardState !== null && !ready.mustSync;
    let write: Promise<void> | null = null;
    if (commitOnly) {
      this.deferred = ready.hardState;
      write = Promise.resolve(); // nothing it claims needs the disk (RawNode.persisted only records it)
    } else if (hasWrite(ready)) {
      const hardState = ready.hardState ?? this.deferred;
      this.deferred = null;
      write = storage.save({ ...(hardState ? { hardState } : {}), entries: ready.entries, sync: ready.mustSync });
    }
    if (write === null && ready.messages.length === 0) return;
    const started = clock.now();
    this.chain(write, () => {
      if (write) this.deps.persisted(ready, clock.now() - started, !commitOnly);
      if (ready.messages.length > 0) this.deps.send(ready.messages);
    });
  }

  /** Resolves once every write submitted so far is durable and handled (or failed). */
  settled(): Promise<void> {
    return this.tail;
  }

  /** Writes a deferred commit index now (unsynced) if nothing else is in flight: on ticks and at stop. */
  flushCommit(): void {
    if (this.deferred === null || this.inFlight > 0) return;
    const hardState = this.deferred;
    this.deferred = null;
    this.chain(this.deps.storage.save({ hardState, entries: [], sync: false }), noop);
  }

  /** Runs `done` once `write` and every write chained before it have completed; a failure stops the node. */
  private chain(write: Promise<void> | null, done: () => void): void {
    write?.catch(noop); // handled below, in order; not an unhandled rejection meanwhile
    this.inFlight++;
    this.tail = this.tail
      .then(() => write)
      .then(
        () => {
          this.inFlight--;
          done();
        },
        (error: unknown) => {
          this.inFlight--;
          this.deps.fail(error);
        },
      );
  }
}
