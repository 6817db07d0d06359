import { describe, test } from 'vitest';
import { appendReadCases } from './cases/appendRead.js';
import { compactionCases } from './cases/compaction.js';
import { durabilityCases } from './cases/durability.js';
import { emptyLogCases } from './cases/emptyLog.js';
import { hardStateCases } from './cases/hardState.js';
import { membershipCases } from './cases/membership.js';
import { receivedSnapshotCases } from './cases/receivedSnapshot.js';
import { scaleCases } from './cases/scale.js';
import { snapshotCases } from './cases/snapshot.js';
import { streamingSnapshotCases } from './cases/streamingSnapshot.js';
import { truncateCases } from './cases/truncate.js';
import { validationCases } from './cases/validation.js';
import { suiteEnv, type LogStorageCase, type LogStorageSuiteOptions } from './env.js';

/** Every conformance case, in the order the suite runs them. */
export const logStorageCases: readonly LogStorageCase[] = [
  ...emptyLogCases,
  ...hardStateCases,
  ...appendReadCases,
  ...truncateCases,
  ...validationCases,
  ...snapshotCases,
  ...streamingSnapshotCases,
  ...receivedSnapshotCases,
  ...membershipCases,
  ...compactionCases,
  ...durabilityCases,
  ...scaleCases,
];

/**
 * Registers the LogStorage conformance suite with vitest. Call it once, at the top level of a
 * test file of the adapter package; each case gets a fresh location from `factory`.
 */
export function runLogStorageSuite(options: LogStorageSuiteOptions): void {
  const env = suiteEnv(options);
  const timeout = options.timeout ?? 30_000;
  const groups = new Map<string, LogStorageCase[]>();
  for (const c of logStorageCases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);

  describe(options.name ?? 'LogStorage conformance', () => {
    for (const [group, cases] of groups) {
      describe(group, () => {
        for (const c of cases) {
          const skip = c.requires !== undefined && !env.supports[c.requires];
          test.skipIf(skip)(c.name, () => c.run(env), timeout);
        }
      });
    }
  });
}
