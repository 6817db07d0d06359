import { ErrorCode, isRaftError } from '@raftkit/core';
import { expect } from 'vitest';

/** `fn` throws RAFT_BAD_MESSAGE with a message matching `pattern`. */
export function expectBadMessage(fn: () => unknown, pattern: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isRaftError(thrown, ErrorCode.BadMessage), `expected RAFT_BAD_MESSAGE, got ${String(thrown)}`).toBe(true);
  expect((thrown as Error).message).toMatch(pattern);
}
