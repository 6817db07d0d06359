export { RaftNode, type RaftNodeOptions, type RaftNodeStatus, type RaftNodeEvents } from './raftNode.js';
export { realClock, type Clock } from './clock.js';
export type * from './interfaces.js';
export { checkEntries, checkHardState, checkIndex, checkRange, checkSnapshot, checkWrite } from './storageChecks.js';
export type { MembershipChangeSpec, MembershipOpOptions } from './membershipOps.js';
