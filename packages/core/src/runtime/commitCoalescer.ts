import type { Message, NodeId } from '../consensus/types.js';
import type { Clock } from './clock.js';

/**
 * Holds a leader's empty AppendEntries (the ones that only carry a new commit index) for a
 * moment, hoping to send the news with the next entries instead.
 *
 * With one write in flight at a time, every commit otherwise costs one message to each
 * follower that says nothing but "commit is now N", just before the next proposal's
 * AppendEntries says the same thing with entries: a socket write on the leader, and a read, a
 * Ready and an apply on each follower, on every write's path (issue 11).
 *
 * Holding a message only delays it, and a held one is dropped only when a later AppendEntries
 * to the same peer leaves, which carries the leader's commit index at that later moment; Raft
 * tolerates both delay and loss. Nothing is held longer than `delayMs`: followers still learn
 * of every commit within it, also when no entries follow.
 */
export class CommitCoalescer {
  private readonly held = new Map<NodeId, Message>();
  private timer: unknown = null;
  /** Messages held and then dropped because a later AppendEntries took their place. */
  saved = 0;

  constructor(
    private readonly clock: Clock,
    /** At most this long a message is held; 0 holds nothing. */
    private readonly delayMs: number,
    private readonly send: (messages: readonly Message[]) => void,
  ) {}

  /** Sends `messages` now, except the empty AppendEntries, which wait (see the class). */
  route(messages: readonly Message[]): void {
    if (this.delayMs === 0) {
      this.send(messages);
      return;
    }
    let now: Message[] | null = null;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.type === 'append') {
        if (this.held.delete(m.to)) this.saved++;
        if (m.entries.length === 0) {
          this.held.set(m.to, m);
          now ??= messages.slice(0, i);
          continue;
        }
      }
      now?.push(m);
    }
    if (now === null) this.send(messages);
    else if (now.length > 0) this.send(now);
    if (this.held.size > 0 && this.timer === null) this.timer = this.clock.setTimeout(() => this.flush(), this.delayMs);
  }

  /** Sends every held message now. */
  flush(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.held.size === 0) return;
    const out = [...this.held.values()];
    this.held.clear();
    this.send(out);
  }

  /** Drops whatever is held (the node stops). */
  close(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.held.clear();
  }
}
