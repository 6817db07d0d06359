export { runSeed, type SimOptions, type SimOutcome } from './sim/runSeed.js';
export { SimCluster } from './sim/cluster.js';
export { SafetyChecker, Violation } from './sim/safety.js';
