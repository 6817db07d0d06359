import type { Message } from '@raftkit/core';
import { expect } from 'vitest';
import type { SuiteConfig } from './cluster.js';
import { diffValues } from './compare.js';
import { type Inbox, pause } from './inbox.js';

const matches = (a: Message, b: Message): boolean => diffValues(a, b) === null;

/** True once every message of `sent` has arrived intact. */
export function allArrived(received: readonly Message[], sent: readonly Message[]): boolean {
  return sent.every((s) => received.some((r) => matches(r, s)));
}

/**
 * Checks `received` is exactly `sent`: in order if the transport is ordered, exactly once if
 * it is lossless, and in any case each received message equal to one that was sent.
 */
export function expectSameMessages(received: readonly Message[], sent: readonly Message[], config: SuiteConfig): void {
  const { ordered, lossless } = config.supports;
  if (lossless) expect(received.length, 'number of messages received').toBe(sent.length);
  if (ordered && lossless) {
    received.forEach((message, i) => expect(diffValues(message, sent[i], `message #${i}`)).toBeNull());
    return;
  }
  received.forEach((r, i) => expect(sent.some((s) => matches(r, s)), `received #${i} was never sent`).toBe(true));
  if (lossless) expect(allArrived(received, sent), 'every sent message received').toBe(true);
}

/** Sequence numbers must increase: per-sender order as sent (gaps allowed when lossy). */
export function expectIncreasing(seqs: readonly number[]): void {
  const outOfOrder = seqs.findIndex((s, i) => i > 0 && s <= seqs[i - 1]);
  expect(outOfOrder, `sequence out of order at position ${outOfOrder}: ${seqs.slice(outOfOrder - 2, outOfOrder + 2)}`).toBe(-1);
}

/**
 * Waits until `inbox` holds `count` messages; for a lossy transport, until it holds `count`
 * or nothing new has arrived for `quietMs`.
 */
export async function settle(inbox: Inbox, count: number, config: SuiteConfig): Promise<void> {
  if (config.supports.lossless) return inbox.untilMessages(count, config.timeoutMs);
  const deadline = Date.now() + config.timeoutMs;
  let seen = -1;
  while (inbox.messages.length < count && inbox.messages.length !== seen && Date.now() < deadline) {
    seen = inbox.messages.length;
    await pause(config.quietMs);
  }
}
