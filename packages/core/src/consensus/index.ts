export * from './types.js';
export { resolveConfig, seededRandom, type RaftConfig, type ResolvedConfig, type TestingBugs } from './config.js';
export { RawNode, type Ready, type NodeStatus, type RestoredState } from './rawNode.js';
export type { ReadState } from './readOnly.js';
export type { ProgressState } from './progress.js';
