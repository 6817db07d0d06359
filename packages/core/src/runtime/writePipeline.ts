import { hasWrite, type Ready } from '../consensus/rawNode.js';
import type { Message } from '../consensus/types.js';
import type { Clock } from './clock.js';
import type { LogStorage } from './interfaces.js';

export interface WritePipelineDeps {
  readonly storage: LogStorage;
  readonly clock: Clock;
  /** `ready`'s write is durable, and every earlier one: tell the core (`RawNode.persisted`). */
  persisted(ready: Ready, ms: number): void;
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

  constructor(private readonly deps: WritePipelineDeps) {}

  /** Writes in flight (submitted, completion not yet handled). */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Hands `ready`'s entries and hard state to storage now; once that write (and every earlier
   * one) is durable, reports it and sends `ready.messages`. A Ready with a snapshot is not
   * for the pipeline: the runtime installs it itself once `settled()`.
   */
  submit(ready: Ready): void {
    const { storage, clock } = this.deps;
    const write = hasWrite(ready)
      ? storage.save({ ...(ready.hardState ? { hardState: ready.hardState } : {}), entries: ready.entries, sync: ready.mustSync })
      : null;
    if (write === null && ready.messages.length === 0) return;
    write?.catch(noop); // handled below, in order; not an unhandled rejection meanwhile
    const started = clock.now();
    this.inFlight++;
    this.tail = this.tail
      .then(() => write)
      .then(
        () => {
          this.inFlight--;
          if (write) this.deps.persisted(ready, clock.now() - started);
          if (ready.messages.length > 0) this.deps.send(ready.messages);
        },
        (error: unknown) => {
          this.inFlight--;
          this.deps.fail(error);
        },
      );
  }

  /** Resolves once every write submitted so far is durable and handled (or failed). */
  settled(): Promise<void> {
    return this.tail;
  }
}
