export * from './types.js';
export { resolveConfig, seededRandom, type RaftConfig, type ResolvedConfig, type TestingBugs } from './config.js';
export { RawNode, hasWrite, type Ready, type NodeStatus, type RestoredState, type MembershipStatus } from './rawNode.js';
export {
  type ConfChange,
  type MemberChange,
  type MembershipConfig,
  allMembers,
  bootstrapConfig,
  describe as describeMembership,
  emptyConfig,
  isJoint,
  validate as validateMembership,
} from './membership/config.js';
export { applyConfChange } from './membership/changer.js';
export { decodeConfEntry, encodeConfEntry } from './membership/entry.js';
export { JointConfig } from './membership/joint.js';
export { MajorityConfig } from './membership/majority.js';
export type { ConfChangeOptions } from './step/membership.js';
export type { ReadState } from './readOnly.js';
export type { ProgressState } from './progress.js';
