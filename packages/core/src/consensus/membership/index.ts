/**
 * Cluster membership: quorums of plain and joint configurations and the pure configuration
 * changer (thesis §4). Internal until wired into the core; not exported from the package.
 */
export { type AckedIndexFn, MajorityConfig, type VoteResult } from './majority.js';
export { JointConfig } from './joint.js';
export {
  type ConfChange,
  type MemberChange,
  type MembershipConfig,
  allMembers,
  bootstrapConfig,
  describe,
  emptyConfig,
  isJoint,
  quorumOf,
  validate,
} from './config.js';
export { applyConfChange, enterJoint, leaveJoint, simple } from './changer.js';
