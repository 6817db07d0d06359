// Deterministic simulation of whole clusters of pure cores, for tests and test harnesses.
export { Simulation, SimViolation, type SimOptions, type SimResult } from './simulation.js';
export { StabilityMonitor, type ClusterView } from './stability.js';
export { drawProfile, profileNames, type FaultProfile, type ProfileName } from './faultProfile.js';
export { bytes, crashStore, newStore, persist, str, type DurableStore, type StoreWrite } from './durableStore.js';
