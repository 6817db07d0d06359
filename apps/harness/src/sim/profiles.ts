import { profileNames, type ProfileName } from '@raftkit/core/testing';

/**
 * The fault schedules of the sim: those of the core's message-level engine, plus
 * `membership` (membership churn interleaved with the usual faults), which only the
 * end-to-end engine has: the core engine then draws its own schedule per seed.
 */
export type SimProfile = ProfileName | 'membership';

export const simProfileNames: readonly SimProfile[] = [...profileNames, ...(profileNames.includes('membership' as ProfileName) ? [] : ['membership' as const])];

export function isCoreProfile(p: SimProfile): p is ProfileName {
  return profileNames.includes(p as ProfileName);
}
