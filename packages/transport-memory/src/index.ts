export { MemoryNetwork } from './memoryNetwork.js';
export type { MemoryNetworkOptions } from './memoryNetwork.js';
export type { MemoryTransport, MemoryTransportState } from './memoryTransport.js';
export { ManualScheduler, systemScheduler } from './scheduler.js';
export type { ManualSchedulerOptions, Scheduler } from './scheduler.js';
export type { DelayRange, LinkFaults, ResolvedFaults } from './faults.js';
export type { MessageCounts, NetworkStats } from './stats.js';
