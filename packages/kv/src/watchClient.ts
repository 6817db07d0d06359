import type { KvReplica, ReadOptions } from './types.js';
import type { WatchFilter, WatchOptions, WatchStream } from './watch.js';

/** What `KvClient.watch` takes: the watch's own options and those of the read that pins its start. */
export interface ClientWatchOptions extends WatchOptions, ReadOptions {}

/** Finds the replica a read would be served from and waits for its read point (KvClient's `readPoint`). */
export type ReadPointOf = (opts: ReadOptions) => Promise<{ replica: KvReplica; index: number }>;

/**
 * Opens a watch through a client: on the replica a read at `consistency` would be served
 * from, once that replica has applied the read point. Without `fromRevision` the watch starts
 * right after the read point, so with a linearizable read (the default) it delivers every
 * change committed after the call began, even one applied before the watch was opened. With
 * `fromRevision` the replay comes from that replica's history, and no read point is needed
 * unless `consistency` is given: every change a replica holds is committed, so any replica
 * (the one a stale read would use) replays the same changes in the same order; a replica
 * behind `fromRevision` delivers them as it applies them. So a replay works on a follower
 * that knows no leader yet.
 *
 * The read point is reached before the watch opens, and the watch opens synchronously on
 * the replica's state machine, so nothing applies in between that the start could miss.
 * (With `watchHistory: 0` a change applied between the read point and the open is not held:
 * the watch then starts at the replica's next revision.)
 *
 * @throws KvError KV_COMPACTED (with `oldestRevision`) if `fromRevision` is older than the
 *   replica's history; KV_INVALID_ARGUMENT for a bad filter or option; NotLeaderError and the
 *   core's errors as a read has them; the signal's reason once it aborts.
 */
export async function watchThrough(readPoint: ReadPointOf, filter: WatchFilter, opts: ClientWatchOptions = {}): Promise<WatchStream> {
  const read: { -readonly [K in keyof ReadOptions]: ReadOptions[K] } = {};
  if (opts.consistency !== undefined) read.consistency = opts.consistency;
  else if (opts.fromRevision !== undefined) read.consistency = 'stale';
  if (opts.timeoutMs !== undefined) read.timeoutMs = opts.timeoutMs;
  if (opts.signal !== undefined) read.signal = opts.signal;
  const { replica, index } = await readPoint(read);
  const machine = replica.machine;
  const watch: { -readonly [K in keyof WatchOptions]: WatchOptions[K] } = {};
  // A stale read has no read point (index 0): the replica's state as it is.
  const pinned = (index === 0 ? machine.revision : index) + 1;
  watch.fromRevision = opts.fromRevision ?? Math.max(pinned, machine.oldestWatchRevision);
  if (opts.prevValue !== undefined) watch.prevValue = opts.prevValue;
  if (opts.signal !== undefined) watch.signal = opts.signal;
  if (opts.maxQueued !== undefined) watch.maxQueued = opts.maxQueued;
  return machine.watch(filter, watch);
}
