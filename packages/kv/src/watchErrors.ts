import { KvError, KvErrorCode } from './errors.js';

/** KV_COMPACTED: the changes a watch needs are no longer held. */
export class KvCompactedError extends KvError {
  /** The smallest `fromRevision` the history accepts now. */
  readonly oldestRevision: number;
  /**
   * Only when a running watch ends with it (the replica restored a snapshot past the watch's
   * position): every matching change up to this revision was delivered before the error.
   */
  readonly lastRevision?: number;

  constructor(message: string, oldestRevision: number, lastRevision?: number) {
    super(KvErrorCode.Compacted, message);
    this.oldestRevision = oldestRevision;
    if (lastRevision !== undefined) this.lastRevision = lastRevision;
  }
}

/** KV_WATCH_OVERFLOW: the consumer was too slow; resume with `fromRevision: lastRevision + 1`. */
export class KvWatchOverflowError extends KvError {
  /** Every matching change up to this revision was delivered before the error; none after it. */
  readonly lastRevision: number;

  constructor(message: string, lastRevision: number) {
    super(KvErrorCode.WatchOverflow, message);
    this.lastRevision = lastRevision;
  }
}

export const compactedError = (fromRevision: number, oldestRevision: number): KvCompactedError =>
  new KvCompactedError(
    `watch fromRevision ${fromRevision} is compacted: the history holds revisions from ${oldestRevision} on`,
    oldestRevision,
  );

export const compactedByRestore = (snapshotRevision: number, lastRevision: number): KvCompactedError =>
  new KvCompactedError(
    `watch ended: the replica restored a snapshot at revision ${snapshotRevision}, past the watch's position ` +
      `(changes delivered up to revision ${lastRevision}; the history holds revisions from ${snapshotRevision + 1} on)`,
    snapshotRevision + 1,
    lastRevision,
  );

export const watchOverflowError = (lastRevision: number, maxQueued: number): KvWatchOverflowError =>
  new KvWatchOverflowError(
    `watch ended: the consumer fell more than ${maxQueued} events behind (changes delivered up to revision ` +
      `${lastRevision}; resume with fromRevision ${lastRevision + 1})`,
    lastRevision,
  );
