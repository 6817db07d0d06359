import { KvStateMachine, type KvChange, type KvCommandResult, type KvStateMachineOptions } from '../../../src/index.js';
import { fingerprint, type Audit } from './auditedMachine.js';

/** One revision's changes, as the committed log makes them. */
export interface CommittedRevision {
  readonly revision: number;
  readonly changes: readonly KvChange[];
}

/**
 * Replays the committed log (every entry some replica applied, in index order; indexes no
 * replica applied are Raft's own entries) into a fresh reference KvStateMachine and returns
 * the changes of every revision that changed something. Each result must match the one the
 * replicas produced, or the reference is no reference: returns the mismatches as problems.
 */
export interface CommittedLog {
  readonly revisions: CommittedRevision[];
  /** The reference's result of every entry, by index. */
  readonly results: Map<number, KvCommandResult>;
  readonly problems: string[];
}

export function committedChanges(audit: Audit, options: KvStateMachineOptions): CommittedLog {
  const reference = new KvStateMachine(options);
  const revisions: CommittedRevision[] = [];
  reference.subscribeChanges({
    applied: (revision, changes) => void revisions.push({ revision, changes: [...changes] }),
    restored: (revision) => {
      throw new Error(`reference machine restored at ${revision}: it only applies`);
    },
  });
  const problems: string[] = [];
  const results = new Map<number, KvCommandResult>();
  for (const index of [...audit.entries.keys()].sort((a, b) => a - b)) {
    const result = reference.apply(audit.entries.get(index)!);
    results.set(index, result);
    const fp = fingerprint(result);
    if (fp !== audit.resultAt.get(index)) problems.push(`reference result at ${index} is ${fp}, the replicas' ${audit.resultAt.get(index)}`);
  }
  return { revisions, results, problems };
}
