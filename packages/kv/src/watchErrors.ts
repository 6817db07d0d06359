import { KvError, type KvErrorCode } from './errors.js';

/**
 * The watch's error codes. They belong in `KvErrorCode` (errors.ts); until they are there,
 * they are cast to it, so `err.code` is still the plain string and `isKvError` sees a KvError.
 */
export const WatchErrorCode = {
  /** The watch starts before the oldest revision the history still holds; `oldestRevision` is the first that would be accepted. */
  Compacted: 'KV_COMPACTED',
  /** The consumer fell more than `maxQueued` events behind; `lastRevision` + 1 is where to resume. */
  WatchOverflow: 'KV_WATCH_OVERFLOW',
} as const;
export type WatchErrorCode = (typeof WatchErrorCode)[keyof typeof WatchErrorCode];

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
    super(WatchErrorCode.Compacted as unknown as KvErrorCode, message);
    this.oldestRevision = oldestRevision;
    if (lastRevision !== undefined) this.lastRevision = lastRevision;
  }
}

/** KV_WATCH_OVERFLOW: the consumer was too slow; resume with `fromRevision: lastRevision + 1`. */
export class KvWatchOverflowError extends KvError {
  /** Every matching change up to this revision was delivered before the error; none after it. */
  readonly lastRevision: number;

  constructor(message: string, lastRevision: number) {
    super(WatchErrorCode.WatchOverflow as unknown as KvErrorCode, message);
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
