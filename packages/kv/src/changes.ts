import type { StoredValue } from './values.js';

/** A key's state as a change reports it (a KeyRecord has at least these fields). */
export interface ChangedRecord {
  readonly value: StoredValue;
  /** Revision of the write that last set the key. */
  readonly modRevision: number;
  /** Revision of the write that created the key (since it was last absent). */
  readonly createRevision: number;
  /** Writes to the key since it was created: 1 after the creating put. */
  readonly version: number;
  /** The lease the key is attached to; 0 for none. */
  readonly lease: number;
}

/** One key changed by an applied entry. */
export interface KvChange {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The key's record after a put; undefined for a delete. */
  readonly record?: ChangedRecord;
  /** The key's record before the change; undefined if it was absent. */
  readonly prev?: ChangedRecord;
}

/**
 * Receives the state machine's changes, in apply order, on every replica alike (the watch
 * history is one). Called synchronously inside `apply` and `restore`: must not throw or block.
 */
export interface ChangeSink {
  /** After every applied entry that changed at least one key, with its changes in op order. */
  applied(revision: number, changes: readonly KvChange[]): void;
  /** After a restore: the state is now the snapshot's, at `revision`; earlier history is gone. */
  restored(revision: number): void;
}
