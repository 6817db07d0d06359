export { RaftNode } from './raftNode.js';
export type { RaftNodeOptions, RaftNodeStatus, RaftNodeEvents } from './options.js';
export { realClock, type Clock } from './clock.js';
export type { SnapshotOptions } from './snapshots.js';
export type { SnapshotTaken } from './snapshotter.js';
export { crc32c } from './crc32c.js';
export type * from './interfaces.js';
export type * from './snapshotStore.js';
export { SNAPSHOT_CHUNK_BYTES, isSnapshotStream, snapshotBytes, streamByReads } from './snapshotStore.js';
export {
  checkEntries,
  checkHardState,
  checkIndex,
  checkRange,
  checkSnapshot,
  checkSnapshotExpectation,
  checkSnapshotMeta,
  checkSnapshotRead,
  checkWrite,
} from './storageChecks.js';
export type { MembershipChangeSpec, MembershipOpOptions } from './membershipOps.js';
