// Argument checks every LogStorage adapter makes, in one place (adapters do not import each
// other). Each throws RAFT_INVALID_ARGUMENT with a message naming the bad field.
import { decodeConfEntry, encodeConfEntry } from '../consensus/membership/entry.js';
import { EntryType, type Entry, type HardState, type Snapshot, type SnapshotMeta } from '../consensus/types.js';
import { ErrorCode, RaftError } from '../errors.js';
import type { LogWrite } from './interfaces.js';
import type { SnapshotExpectation } from './snapshotStore.js';

const invalid = (message: string): RaftError => new RaftError(ErrorCode.InvalidArgument, message);

function isIndex(value: unknown, min: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min;
}

export function checkIndex(what: string, value: unknown, min = 0): asserts value is number {
  if (!isIndex(value, min)) throw invalid(`${what} must be an integer >= ${min}, got ${String(value)}`);
}

export function checkRange(lo: number, hi: number): void {
  checkIndex('lo', lo);
  checkIndex('hi', hi);
  if (lo > hi) throw invalid(`lo (${lo}) must not exceed hi (${hi})`);
}

export function checkHardState(hs: HardState): void {
  if (typeof hs !== 'object' || hs === null) throw invalid('hardState must be an object');
  checkIndex('hardState.term', hs.term);
  checkIndex('hardState.commit', hs.commit);
  if (hs.vote !== null && typeof hs.vote !== 'string') {
    throw invalid(`hardState.vote must be a string or null, got ${String(hs.vote)}`);
  }
}

const entryTypes: ReadonlySet<unknown> = new Set(Object.values(EntryType));

function checkEntry(e: Entry): void {
  if (typeof e !== 'object' || e === null) throw invalid('an entry must be an object');
  checkIndex('entry.index', e.index, 1);
  checkIndex(`entry ${e.index} term`, e.term, 1);
  if (!entryTypes.has(e.type)) throw invalid(`entry ${e.index} has unknown type ${String(e.type)}`);
  if (!(e.data instanceof Uint8Array)) throw invalid(`entry ${e.index} data must be a Uint8Array`);
}

/** Checks each entry and that they are consecutive with non-decreasing terms (Raft §5.3). */
export function checkEntries(entries: readonly Entry[]): void {
  if (!Array.isArray(entries)) throw invalid('entries must be an array');
  for (let i = 0; i < entries.length; i++) {
    checkEntry(entries[i]!);
    if (i === 0) continue;
    const prev = entries[i - 1]!;
    if (entries[i]!.index !== prev.index + 1) {
      throw invalid(`entries are not consecutive: ${entries[i]!.index} follows ${prev.index}`);
    }
    if (entries[i]!.term < prev.term) {
      throw invalid(`entry ${entries[i]!.index} has term ${entries[i]!.term} below the previous term ${prev.term}`);
    }
  }
}

/** A snapshot's position and membership, as `createSnapshot` and `installSnapshot` take it. */
export function checkSnapshotMeta(meta: SnapshotMeta): void {
  if (typeof meta !== 'object' || meta === null) throw invalid('snapshot must be an object with meta');
  checkIndex('snapshot.meta.index', meta.index, 1);
  checkIndex('snapshot.meta.term', meta.term, 1);
  const { voters } = meta;
  if (!Array.isArray(voters) || voters.some((v) => typeof v !== 'string')) {
    throw invalid('snapshot.meta.voters must be an array of strings');
  }
  const m = meta.membership;
  if (m !== undefined) {
    if (typeof m !== 'object' || m === null) throw invalid('snapshot.meta.membership must be an object');
    try {
      // The same checks a configuration entry read from the log gets.
      decodeConfEntry(encodeConfEntry(m));
    } catch (err) {
      throw invalid(`snapshot.meta.membership is invalid: ${(err as Error).message}`);
    }
  }
}

export function checkSnapshot(snapshot: Snapshot): void {
  if (typeof snapshot !== 'object' || snapshot === null || typeof snapshot.meta !== 'object' || !snapshot.meta) {
    throw invalid('snapshot must be an object with meta');
  }
  checkSnapshotMeta(snapshot.meta);
  if (!(snapshot.data instanceof Uint8Array)) throw invalid('snapshot.data must be a Uint8Array');
}

/** What `createSnapshot` is told a received snapshot must turn out to be. */
export function checkSnapshotExpectation(expected: SnapshotExpectation): void {
  if (typeof expected !== 'object' || expected === null) throw invalid('expected must be an object with size and checksum');
  if (!Number.isSafeInteger(expected.size) || expected.size < 0) throw invalid(`expected.size must be an integer >= 0, got ${String(expected.size)}`);
  if (typeof expected.checksum !== 'string' || !/^[0-9a-f]{64}$/.test(expected.checksum)) {
    throw invalid('expected.checksum must be a SHA-256 in lowercase hex (64 characters)');
  }
}

/** The range of a `SnapshotReader.read` (or `stream`: offset and chunk size). */
export function checkSnapshotRead(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalid(`offset must be an integer >= 0, got ${String(offset)}`);
  if (!Number.isSafeInteger(length) || length < 0) throw invalid(`length must be an integer >= 0, got ${String(length)}`);
}

export function checkWrite(write: LogWrite): void {
  if (typeof write !== 'object' || write === null) throw invalid('write must be an object');
  if (write.hardState !== undefined) checkHardState(write.hardState);
  if (write.entries !== undefined) checkEntries(write.entries);
}
