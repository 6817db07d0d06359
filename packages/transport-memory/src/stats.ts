import { MESSAGE_TYPES, type MessageType } from '@raftkit/core';

/**
 * What happened to messages. Every message handed to `send` counts once in `sent` and ends in
 * exactly one of `delivered`, `dropped` or `unreachable`; each extra copy made by the duplicate
 * fault counts in `duplicated` and ends in `delivered` or `dropped`. Hence, at any moment:
 * sent + duplicated = delivered + dropped + unreachable + inFlight.
 */
export interface MessageCounts {
  readonly sent: number;
  readonly delivered: number;
  /** Lost to a fault, a cut link, a closed sender or receiver, or sent by a closed transport. */
  readonly dropped: number;
  /** Extra copies made by the duplicate fault. */
  readonly duplicated: number;
  /** Addressed to a node with no started transport; reported to the sender. */
  readonly unreachable: number;
}

export interface NetworkStats extends MessageCounts {
  /** Copies scheduled for delivery that have not been delivered or dropped yet. */
  readonly inFlight: number;
  readonly byType: Readonly<Record<MessageType, MessageCounts>>;
}

export type Outcome = keyof MessageCounts;

export const messageTypes: ReadonlySet<string> = new Set(MESSAGE_TYPES);

type MutableCounts = { -readonly [K in Outcome]: number };

const zero = (): MutableCounts => ({ sent: 0, delivered: 0, dropped: 0, duplicated: 0, unreachable: 0 });

/** Counters, in total and per message type. */
export class StatsRecorder {
  private total = zero();
  private byType = new Map<MessageType, MutableCounts>();

  count(type: MessageType, outcome: Outcome): void {
    this.total[outcome]++;
    let counts = this.byType.get(type);
    if (!counts) this.byType.set(type, (counts = zero()));
    counts[outcome]++;
  }

  snapshot(inFlight: number): NetworkStats {
    const byType = Object.fromEntries(
      MESSAGE_TYPES.map((type) => [type, { ...(this.byType.get(type) ?? zero()) }]),
    ) as Record<MessageType, MessageCounts>;
    return { ...this.total, inFlight, byType };
  }

  reset(): void {
    this.total = zero();
    this.byType.clear();
  }
}
