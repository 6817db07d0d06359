export { RaftNode } from './raftNode.js';
export type { RaftNodeOptions, RaftNodeStatus, RaftNodeEvents } from './options.js';
export { realClock, type Clock } from './clock.js';
export type * from './interfaces.js';
export type * from './snapshotStore.js';
export { isSnapshotStream, snapshotBytes } from './snapshotStore.js';
export { checkEntries, checkHardState, checkIndex, checkRange, checkSnapshot, checkWrite } from './storageChecks.js';
export type { MembershipChangeSpec, MembershipOpOptions } from './membershipOps.js';
