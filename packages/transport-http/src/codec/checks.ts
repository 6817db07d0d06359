import { EntryType } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { badMessage } from './errors.js';

/**
 * Range checks beyond "is a well-formed field", shared by encoder and decoder so that a batch
 * a sender accepted is never refused by the receiver (one bad message would sink the batch).
 */

const entryTypes: ReadonlySet<number> = new Set(Object.values(EntryType));

export function checkNodeId(id: string, field: string): void {
  if (id.length === 0) throw badMessage(`${field} must be a non-empty node id`);
}

export function checkEntryType(type: unknown, field: string): asserts type is EntryType {
  if (typeof type !== 'number' || !entryTypes.has(type)) throw badMessage(`${field} has unknown entry type ${String(type)}`);
}

interface EntryPosition {
  readonly index: number;
  readonly term: number;
}

/**
 * An append's entries continue the log right after `prevIndex` (Raft §5.3), with terms >= 1.
 * Entry terms are not compared with the message term: that is the core's judgement, and the
 * conformance suite's samples send entries of later terms than the message carries.
 */
export function checkEntryChain(prevIndex: number, entry: EntryPosition, offset: number): void {
  const at = `entries[${offset}]`;
  if (entry.index !== prevIndex + 1 + offset) {
    throw badMessage(`${at}.index is ${entry.index}, expected ${prevIndex + 1 + offset} (entries follow prevIndex)`);
  }
  if (entry.term < 1) throw badMessage(`${at}.term must be >= 1`);
}

/**
 * Terms along a log never go down (§5.3 Log Matching): `last` is the previous entry's term,
 * prevTerm for the first entry.
 */
export function checkTermOrder(last: number, term: number, offset: number): void {
  if (term < last) throw badMessage(`entries[${offset}].term ${term} is lower than the term before it (${last})`);
}

/** A snapshot covers at least entry 1, whose term is >= 1. `at`: the meta's path, e.g. `snapshot.meta`. */
export function checkSnapshotMeta(index: number, term: number, at = 'snapshot.meta'): void {
  if (index < 1) throw badMessage(`${at}.index must be >= 1`);
  if (term < 1) throw badMessage(`${at}.term must be >= 1`);
}

export function checkVoters(voters: readonly NodeId[], at = 'snapshot.meta'): void {
  voters.forEach((voter, i) => checkNodeId(voter, `${at}.voters[${i}]`));
  if (new Set(voters).size !== voters.length) throw badMessage(`${at}.voters has duplicates`);
}

/** A chunk lies inside its snapshot: offset + data length <= size. */
export function checkChunkExtent(offset: number, length: number, size: number): void {
  if (offset + length > size) {
    throw badMessage(`snapshotChunk.offset ${offset} + ${length} bytes of data run past snapshotChunk.size ${size}`);
  }
}
