import { EntryType, type ConfState, type RaftError, type Entry, type ErrorCode, type Snapshot } from '@raftkit/core';
import { expect } from 'vitest';

/**
 * Deterministic bytes derived from `index` (and `size`), so a reader can verify an entry's
 * contents from its index alone (used by the suite and by crash tests).
 */
export function entryData(index: number, size = 16): Uint8Array {
  const out = new Uint8Array(size);
  // xorshift32 seeded from the index; never zero.
  let x = (Math.imul(index, 0x9e3779b1) ^ Math.imul(size, 0x85ebca6b) ^ 0x2545f491) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    if ((i & 3) === 0) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    out[i] = x >>> ((i & 3) * 8);
  }
  return out;
}

export interface MakeEntryOptions {
  readonly type?: EntryType;
  /** Explicit payload; defaults to `entryData(index, size)`. */
  readonly data?: Uint8Array;
  /** Payload size when `data` is not given. Default 16. */
  readonly size?: number;
}

/** One entry whose payload is derived from its index (see `entryData`). */
export function makeEntry(index: number, term: number, options: MakeEntryOptions = {}): Entry {
  const data = options.data ?? entryData(index, options.size ?? 16);
  return { index, term, type: options.type ?? EntryType.Normal, data };
}

/**
 * `count` consecutive entries starting at `first`. `term` is a number or a function of the
 * index; `size` is the payload size of each entry.
 */
export function makeEntries(
  first: number,
  count: number,
  term: number | ((index: number) => number) = 1,
  size = 16,
): Entry[] {
  const out: Entry[] = [];
  for (let i = first; i < first + count; i++) {
    out.push(makeEntry(i, typeof term === 'number' ? term : term(i), { size }));
  }
  return out;
}

/** A snapshot whose payload is derived from its index. */
export function makeSnapshot(index: number, term: number, voters: readonly string[] = ['a', 'b', 'c']): Snapshot {
  return { meta: { index, term, voters }, data: entryData(index + 1_000_000, 64) };
}

/**
 * A joint configuration leaving (a b c) for (a b d), with learners, a learner-to-be and
 * addresses: every field of a ConfState set. '10' is an id JavaScript objects order first.
 */
export function makeConfState(): ConfState {
  return {
    config: { voters: ['a', 'b', 'd'], votersOutgoing: ['a', 'b', 'c'], learners: ['10', 'l-ü'], learnersNext: ['c'], autoLeave: true },
    addresses: { a: 'http://10.0.0.1:7001', d: 'https://d.example/raft', '10': 'http://[::1]:7010', 'l-ü': 'http://l.example' },
  };
}

/** A snapshot carrying `membership` (voters: both halves of it). */
export function makeMembershipSnapshot(index: number, term: number, membership: ConfState = makeConfState()): Snapshot {
  const voters = [...new Set([...membership.config.voters, ...membership.config.votersOutgoing])].sort();
  return { meta: { index, term, voters, membership }, data: entryData(index + 2_000_000, 64) };
}

/** True when both byte arrays hold the same bytes (views compared by content). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function describeEntry(e: Entry): string {
  return `{index ${e.index}, term ${e.term}, type ${e.type}, ${e.data?.byteLength} bytes}`;
}

/** Asserts that `actual` holds exactly `expected`: same indexes, terms, types and bytes. */
export function expectEntries(actual: readonly Entry[], expected: readonly Entry[]): void {
  expect(actual.length, 'number of entries').toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const same =
      a.index === e.index &&
      a.term === e.term &&
      a.type === e.type &&
      a.data instanceof Uint8Array &&
      sameBytes(a.data, e.data);
    if (!same) {
      expect.fail(`entry #${i}: got ${describeEntry(a)}, expected ${describeEntry(e)} (or bytes differ)`);
    }
  }
}

/** Asserts that a snapshot equals `expected`, metadata and bytes. */
export function expectSnapshot(actual: Snapshot | null, expected: Snapshot): void {
  expect(actual, 'snapshot').not.toBeNull();
  expect(actual!.meta.index).toBe(expected.meta.index);
  expect(actual!.meta.term).toBe(expected.meta.term);
  expect([...actual!.meta.voters]).toEqual([...expected.meta.voters]);
  // Deep equality; a snapshot given without membership must come back without one.
  expect(actual!.meta.membership, 'snapshot membership').toEqual(expected.meta.membership);
  expect(actual!.data).toBeInstanceOf(Uint8Array);
  expect(sameBytes(actual!.data, expected.data), 'snapshot data bytes').toBe(true);
}

/** Awaits `promise` and asserts it rejects with a RaftError carrying `code`. */
export async function expectRaftError(promise: Promise<unknown>, code: ErrorCode): Promise<RaftError> {
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await promise };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) expect.fail(`expected rejection with ${code}, but it resolved`);
  const error = outcome.error;
  // Matched by code, not instanceof, so a second copy of @raftkit/core cannot fool the check.
  if (!(error instanceof Error) || typeof (error as Partial<RaftError>).code !== 'string') {
    expect.fail(`expected a coded error ${code}, got ${String(error)}`);
  }
  expect((error as RaftError).code, error.message).toBe(code);
  return error as RaftError;
}
