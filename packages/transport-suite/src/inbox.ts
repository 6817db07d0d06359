import type { Message, NodeId, TransportHandler } from '@raftkit/core';

interface Waiter {
  readonly done: () => boolean;
  readonly resolve: () => void;
}

/** A TransportHandler that records what it receives and lets a test wait for it. */
export class Inbox implements TransportHandler {
  /** Messages in delivery order. */
  readonly messages: Message[] = [];
  /** Peers reported through `onUnreachable`, in report order. */
  readonly unreachable: NodeId[] = [];
  private readonly waiters = new Set<Waiter>();

  onMessage(message: Message): void {
    this.messages.push(message);
    this.wake();
  }

  onUnreachable(peer: NodeId): void {
    this.unreachable.push(peer);
    this.wake();
  }

  /** Resolves once `done()` holds; rejects after `timeoutMs`, naming `what` was awaited. */
  until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (have ${this.summary()})`));
      }, timeoutMs);
      const waiter: Waiter = {
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Resolves once at least `count` messages have arrived. */
  untilMessages(count: number, timeoutMs: number): Promise<void> {
    return this.until(() => this.messages.length >= count, `${count} messages`, timeoutMs);
  }

  private wake(): void {
    for (const waiter of this.waiters) {
      if (!waiter.done()) continue;
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  private summary(): string {
    return `${this.messages.length} messages, ${this.unreachable.length} unreachable reports`;
  }
}

/** Resolves after `ms` of real time: the quiet period in which nothing may arrive. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
